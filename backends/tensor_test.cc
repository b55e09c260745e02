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

TEST(Tensor, F16IsRejected) {
  try {
    Tensor t({DType::f16, {2}});
    FAIL() << "expected an Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("f16[2]"), std::string::npos) << e.what();
  }
}

// bf16 keeps 8 significant bits: 1 + 2^-8 is halfway between 1 and 1 + 2^-7 and rounds to the even one, 1;
// 1 + 3·2^-8 rounds up to 1 + 2^-6 (0x3f82); values above halfway round up.
TEST(Tensor, Bf16RoundsToNearestEven) {
  EXPECT_EQ(bf16_from_float(1.0f), 0x3f80);
  EXPECT_EQ(bf16_from_float(1.0f + 0x1p-8f), 0x3f80);
  EXPECT_EQ(bf16_from_float(1.0f + 3 * 0x1p-8f), 0x3f82);
  EXPECT_EQ(bf16_from_float(1.0f + 0x1p-8f + 0x1p-20f), 0x3f81);
  EXPECT_EQ(bf16_from_float(-2.0f), 0xc000);
  EXPECT_EQ(bf16_from_float(std::numeric_limits<float>::infinity()), 0x7f80);
  EXPECT_EQ(bf16_from_float(3.4e38f), 0x7f80);  // above bf16's largest finite value (3.39e38)
  EXPECT_TRUE(std::isnan(float_from_bf16(bf16_from_float(std::nanf("")))));
  EXPECT_EQ(float_from_bf16(0x3f82), 1.015625f);

  Tensor f({DType::f32, {3}});
  f.f32()[0] = 0.1f, f.f32()[1] = -7.0f, f.f32()[2] = 1e-3f;
  const Tensor b = converted(f, DType::bf16);
  ASSERT_EQ(b.type(), (TensorType{DType::bf16, {3}}));
  const Tensor back = converted(b, DType::f32);
  EXPECT_EQ(back.f32()[0], 0.10009765625f);  // 0x3dcd
  EXPECT_EQ(back.f32()[1], -7.0f);
  EXPECT_NEAR(back.f32()[2], 1e-3f, 1e-3f / 256);
  EXPECT_THROW(converted(Tensor({DType::i32, {1}}), DType::bf16), Error);
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
