#include "backends/tensor.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "backends/dropout_mask.h"
#include "ir/error.h"

namespace stratum {
namespace {

TEST(Tensor, ZeroFilledWithItsType) {
  Tensor t({DType::f32, {2, 3}});
  EXPECT_EQ(t.type(), (TensorType{DType::f32, {2, 3}}));
  EXPECT_EQ(t.shape(), (Shape{2, 3}));
  ASSERT_EQ(t.size(), 6);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(t.f32()[i], 0.0f);
  Tensor k({DType::i32, {}});
  EXPECT_EQ(k.size(), 1);
  EXPECT_EQ(k.i32()[0], 0);
}

TEST(Tensor, DefaultIsAnF32Scalar) {
  Tensor t;
  EXPECT_EQ(t.type(), (TensorType{DType::f32, {}}));
  EXPECT_EQ(t.f32()[0], 0.0f);
}

TEST(Tensor, WrongDtypeAccessThrows) {
  Tensor f({DType::f32, {2}});
  const Tensor i({DType::i32, {2}});
  EXPECT_THROW(f.i32(), Error);
  EXPECT_THROW(i.f32(), Error);
}

TEST(Tensor, HalfPrecisionIsRejected) {
  try {
    Tensor t({DType::bf16, {2}});
    FAIL() << "expected an Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("bf16[2]"), std::string::npos) << e.what();
  }
  EXPECT_THROW(Tensor({DType::f16, {1}}), Error);
}

TEST(DropoutMask, RateAndDependenceOnEveryArgument) {
  const int n = 100000;
  int kept = 0, same_as_other_key = 0, same_as_other_seed = 0;
  for (int i = 0; i < n; ++i) {
    const bool keep = dropout_keep(7, 3, i, 0.25);
    kept += keep;
    same_as_other_key += keep == dropout_keep(7, 4, i, 0.25);
    same_as_other_seed += keep == dropout_keep(8, 3, i, 0.25);
  }
  EXPECT_NEAR(kept / double(n), 0.75, 0.01);
  // Independent masks agree on 0.75² + 0.25² = 62.5% of elements.
  EXPECT_NEAR(same_as_other_key / double(n), 0.625, 0.01);
  EXPECT_NEAR(same_as_other_seed / double(n), 0.625, 0.01);
  EXPECT_TRUE(dropout_keep(1, 2, 3, 0.0));
}

// Every position (in a 64-element block and in the tail), every kind of non-finite value.
TEST(AllFinite, FindsANanOrInfinityAnywhere) {
  std::vector<float> v(150, std::numeric_limits<float>::max());
  EXPECT_TRUE(all_finite(v.data(), v.size()));
  for (float bad : {NAN, INFINITY, -INFINITY}) {
    for (size_t at : {size_t{0}, size_t{63}, size_t{64}, size_t{149}}) {
      v[at] = bad;
      EXPECT_FALSE(all_finite(v.data(), v.size())) << bad << " at " << at;
      EXPECT_EQ(all_finite(v.data(), at), true) << "before " << at;
      v[at] = -0.0f;
    }
  }
}

}  // namespace
}  // namespace stratum
