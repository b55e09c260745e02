// The reference kernels against small hand-computed values.
#include "backends/reference/kernels.h"

#include <gtest/gtest.h>

#include <cmath>

#include "backends/dropout_mask.h"
#include "backends/reference/test_util.h"
#include "ir/error.h"
#include "ir/op.h"

namespace stratum {
namespace {

using testing::expect_values;
using testing::f32_tensor;
using testing::i32_tensor;
using testing::run_op;

TEST(ReferenceKernels, EveryOpHasOne) {
  for (const OpDef* op : all_ops()) EXPECT_NE(find_reference_kernel(op->name), nullptr) << op->name;
  EXPECT_EQ(find_reference_kernel("no_such_op"), nullptr);
}

const Tensor kOneToNine = f32_tensor({1, 1, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9});
const Tensor kDiagonal = f32_tensor({1, 1, 2, 2}, {1, 0, 0, 1});
const Attrs kStride2Pad1 = {{"stride", Ints{2, 2}}, {"padding", Ints{1, 1}}};

TEST(ReferenceKernels, Conv2dStridePaddingBias) {
  // Windows start at (-1,-1), (-1,1), (1,-1), (1,1); the diagonal weight adds x[iy,ix] + x[iy+1,ix+1].
  expect_values(run_op("conv2d", {kOneToNine, kDiagonal, f32_tensor({1}, {0.5})}, kStride2Pad1)[0],
                {1.5, 3.5, 7.5, 14.5});
}

TEST(ReferenceKernels, Conv2dDilation) {
  Tensor ones = f32_tensor({1, 1, 2, 2}, {1, 1, 1, 1});
  expect_values(run_op("conv2d", {kOneToNine, ones}, {{"dilation", Ints{2, 2}}})[0], {1 + 3 + 7 + 9});
}

TEST(ReferenceKernels, Conv2dGroups) {
  Tensor x = f32_tensor({1, 2, 1, 1}, {2, 3});
  Tensor w = f32_tensor({2, 1, 1, 1}, {10, 100});
  expect_values(run_op("conv2d", {x, w}, {{"groups", int64_t{2}}})[0], {20, 300});
}

TEST(ReferenceKernels, Conv2dGradients) {
  Tensor dy = f32_tensor({1, 1, 2, 2}, {1, 1, 1, 1});
  Attrs attrs = kStride2Pad1;
  attrs["input_shape"] = Ints{1, 1, 3, 3};
  expect_values(run_op("conv2d_grad_input", {dy, kDiagonal}, attrs)[0], {1, 0, 1, 0, 1, 0, 1, 0, 1});
  attrs.erase("input_shape");
  attrs["weight_shape"] = Ints{1, 1, 2, 2};
  expect_values(run_op("conv2d_grad_weight", {dy, kOneToNine}, attrs)[0], {5, 4 + 6, 2 + 8, 1 + 3 + 7 + 9});
}

TEST(ReferenceKernels, BiasGradSumsAllButAxis1) {
  expect_values(run_op("bias_grad", {f32_tensor({2, 2, 1, 2}, {1, 2, 3, 4, 5, 6, 7, 8})})[0], {14, 22});
  expect_values(run_op("bias_grad", {f32_tensor({2, 3}, {1, 2, 3, 4, 5, 6})})[0], {5, 7, 9});
}

const Tensor kNegative = f32_tensor({1, 1, 2, 2}, {-1, -2, -3, -4});
const Attrs kKernel2Pad1 = {{"kernel", Ints{2, 2}}, {"stride", Ints{1, 1}}, {"padding", Ints{1, 1}}};

TEST(ReferenceKernels, MaxPoolPaddingNeverWins) {
  expect_values(run_op("max_pool", {kNegative}, kKernel2Pad1)[0], {-1, -1, -2, -1, -1, -2, -3, -3, -4});
}

TEST(ReferenceKernels, MaxPoolGradRoutesToFirstMaximum) {
  Tensor ones9 = f32_tensor({1, 1, 3, 3}, std::vector<float>(9, 1));
  expect_values(run_op("max_pool_grad", {ones9, kNegative}, kKernel2Pad1)[0], {4, 2, 2, 1});
  Tensor ties = f32_tensor({1, 1, 2, 2}, {1, 1, 1, 1});
  Attrs whole = {{"kernel", Ints{2, 2}}, {"stride", Ints{2, 2}}};
  expect_values(run_op("max_pool_grad", {f32_tensor({1, 1, 1, 1}, {3}), ties}, whole)[0], {3, 0, 0, 0});
}

TEST(ReferenceKernels, AvgPoolCountsPaddingInTheDivisor) {
  Tensor x = f32_tensor({1, 1, 2, 2}, {1, 2, 3, 4});
  Attrs attrs = {{"kernel", Ints{2, 2}}, {"stride", Ints{2, 2}}, {"padding", Ints{1, 1}}};
  expect_values(run_op("avg_pool", {x}, attrs)[0], {0.25, 0.5, 0.75, 1});
  attrs["input_shape"] = Ints{1, 1, 2, 2};
  expect_values(run_op("avg_pool_grad", {f32_tensor({1, 1, 2, 2}, {1, 1, 1, 1})}, attrs)[0],
                {0.25, 0.25, 0.25, 0.25});
  Attrs kernel3 = {{"kernel", Ints{3, 3}}, {"stride", Ints{1, 1}}, {"padding", Ints{1, 1}}};
  expect_values(run_op("avg_pool", {x}, kernel3)[0], {10 / 9.0, 10 / 9.0, 10 / 9.0, 10 / 9.0});
}

// Kernel 3, stride 1, padding 1 over 1..9: corner windows hold 4 input elements, edge ones 6, the centre 9.
const Attrs kKernel3Pad1Exclude = {
    {"kernel", Ints{3, 3}}, {"stride", Ints{1, 1}}, {"padding", Ints{1, 1}}, {"count_include_pad", false}};

TEST(ReferenceKernels, AvgPoolWithoutPaddingInTheDivisor) {
  expect_values(run_op("avg_pool", {kOneToNine}, kKernel3Pad1Exclude)[0],
                {12 / 4.0, 21 / 6.0, 16 / 4.0, 27 / 6.0, 45 / 9.0, 33 / 6.0, 24 / 4.0, 39 / 6.0, 28 / 4.0});
  Attrs include = kKernel3Pad1Exclude;
  include["count_include_pad"] = true;
  expect_values(run_op("avg_pool", {kOneToNine}, include)[0],
                {12 / 9.0, 21 / 9.0, 16 / 9.0, 27 / 9.0, 45 / 9.0, 33 / 9.0, 24 / 9.0, 39 / 9.0, 28 / 9.0});
}

TEST(ReferenceKernels, AvgPoolGradWithoutPaddingInTheDivisor) {
  // dy = 1: each input element gathers 1/divisor from every window it is in.
  Attrs attrs = kKernel3Pad1Exclude;
  attrs["input_shape"] = Ints{1, 1, 3, 3};
  const float corner = 1 / 4.0 + 2 / 6.0 + 1 / 9.0, edge = 2 / 4.0 + 3 / 6.0 + 1 / 9.0;
  const float centre = 4 / 4.0 + 4 / 6.0 + 1 / 9.0;
  expect_values(run_op("avg_pool_grad", {f32_tensor({1, 1, 3, 3}, std::vector<float>(9, 1))}, attrs)[0],
                {corner, edge, corner, edge, centre, edge, corner, edge, corner});
}

TEST(ReferenceKernels, GlobalAvgPool) {
  expect_values(run_op("global_avg_pool", {f32_tensor({1, 2, 1, 2}, {1, 3, 10, 20})})[0], {2, 15});
  expect_values(run_op("global_avg_pool_grad", {f32_tensor({1, 2, 1, 1}, {2, 4})},
                       {{"input_shape", Ints{1, 2, 1, 2}}})[0],
                {1, 1, 2, 2});
}

// (x, gamma, beta, running mean, running var) for two channels.
std::vector<Tensor> batch_norm_inputs(Tensor x) {
  return {x, f32_tensor({2}, {2, 1}), f32_tensor({2}, {1, 0}), f32_tensor({2}, {0, 1}),
          f32_tensor({2}, {1, 2})};
}

TEST(ReferenceKernels, BatchNormTrainingStatsAndRunningUpdate) {
  // Channel 0 holds {1,2,3,6}: mean 3, biased var 3.5, unbiased 14/3. Channel 1 {10,20,30,40}: 25, 125,
  // 500/3.
  Tensor x = f32_tensor({2, 2, 1, 2}, {1, 2, 10, 20, 3, 6, 30, 40});
  std::vector<Tensor> out = run_op("batch_norm", batch_norm_inputs(x), {{"momentum", 0.1}});
  ASSERT_EQ(out.size(), 5u);
  const double s0 = std::sqrt(3.5 + 1e-5), s1 = std::sqrt(125 + 1e-5);
  auto y0 = [&](double v) { return float(2 * (v - 3) / s0 + 1); };
  auto y1 = [&](double v) { return float((v - 25) / s1); };
  expect_values(out[0], {y0(1), y0(2), y1(10), y1(20), y0(3), y0(6), y1(30), y1(40)});
  expect_values(out[1], {3, 25});
  expect_values(out[2], {3.5, 125}, 1e-4);
  expect_values(out[3], {0.1 * 3, 0.9 + 0.1 * 25});
  expect_values(out[4], {0.9 * 1 + 0.1 * 14 / 3.0, 0.9 * 2 + 0.1 * 500 / 3.0}, 1e-4);
}

TEST(ReferenceKernels, BatchNormRank2) {
  Tensor x = f32_tensor({2, 2}, {1, 10, 3, 30});  // channel 0 {1,3}, channel 1 {10,30}
  std::vector<Tensor> out = run_op("batch_norm", batch_norm_inputs(x));
  const double s0 = std::sqrt(1 + 1e-5), s1 = std::sqrt(100 + 1e-5);
  expect_values(out[0], {float(-2 / s0 + 1), float(-10 / s1), float(2 / s0 + 1), float(10 / s1)});
  expect_values(out[1], {2, 20});
  expect_values(out[2], {1, 100}, 1e-4);
}

TEST(ReferenceKernels, BatchNormInferenceUsesRunningStats) {
  Tensor x = f32_tensor({2, 2}, {1, 10, 3, 30});
  std::vector<Tensor> out = run_op("batch_norm", batch_norm_inputs(x), {{"training", false}});
  ASSERT_EQ(out.size(), 1u);
  const double s0 = std::sqrt(1 + 1e-5), s1 = std::sqrt(2 + 1e-5);
  expect_values(out[0], {float(2 / s0 + 1), float(9 / s1), float(6 / s0 + 1), float(29 / s1)});
}

TEST(ReferenceKernels, SoftmaxCrossEntropyLossAndCorrectCount) {
  Tensor logits = f32_tensor({2, 3}, {0, 0, 0, 1, 2, 3});
  std::vector<Tensor> out = run_op("softmax_cross_entropy", {logits, i32_tensor({2}, {0, 2})});
  const double row1 = std::log(std::exp(1) + std::exp(2) + std::exp(3)) - 3;
  expect_values(out[0], {float((std::log(3) + row1) / 2)});
  EXPECT_EQ(out[1].i32()[0], 2);
  // Row 0 ties: its argmax is the first maximum, class 0, so label 1 is wrong.
  EXPECT_EQ(run_op("softmax_cross_entropy", {logits, i32_tensor({2}, {1, 2})})[1].i32()[0], 1);
}

TEST(ReferenceKernels, SoftmaxCrossEntropyGrad) {
  Tensor logits = f32_tensor({1, 2}, {0, 0});
  expect_values(run_op("softmax_cross_entropy_grad", {f32_tensor({}, {2}), logits, i32_tensor({1}, {1})})[0],
                {1, -1});
}

TEST(ReferenceKernels, LabelOutOfRangeNamesRowAndLabel) {
  Tensor logits = f32_tensor({2, 3}, {0, 0, 0, 1, 2, 3});
  try {
    run_op("softmax_cross_entropy", {logits, i32_tensor({2}, {0, 5})});
    FAIL() << "expected an Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("row 1 has label 5"), std::string::npos) << e.what();
  }
}

TEST(ReferenceKernels, DropoutMaskRateScaleAndReproducibility) {
  const int n = 20000;
  Tensor x = f32_tensor({n}, std::vector<float>(n, 1));
  const Attrs attrs = {{"p", 0.3}, {"seed", int64_t{5}}};
  const Tensor y = run_op("dropout", {x, i32_tensor({}, {9})}, attrs)[0];
  int dropped = 0;
  for (int i = 0; i < n; ++i) {
    ASSERT_EQ(y.f32()[i] != 0, dropout_keep(5, 9, i, 0.3)) << "element " << i;
    dropped += y.f32()[i] == 0;
    ASSERT_TRUE(y.f32()[i] == 0 || y.f32()[i] == float(1 / 0.7)) << "element " << i << ": " << y.f32()[i];
  }
  EXPECT_NEAR(dropped / double(n), 0.3, 0.015);
  EXPECT_EQ(testing::values(run_op("dropout", {x, i32_tensor({}, {9})}, attrs)[0]), testing::values(y));
  EXPECT_NE(testing::values(run_op("dropout", {x, i32_tensor({}, {10})}, attrs)[0]), testing::values(y));
  // The backward op applies the same mask and scale.
  EXPECT_EQ(testing::values(run_op("dropout_grad", {x, i32_tensor({}, {9})}, attrs)[0]), testing::values(y));
}

TEST(ReferenceKernels, DropoutInferenceIsIdentity) {
  Tensor x = f32_tensor({3}, {1, 2, 3});
  expect_values(run_op("dropout", {x, i32_tensor({}, {1})}, {{"training", false}})[0], {1, 2, 3});
}

TEST(ReferenceKernels, ConcatAndSlice) {
  Tensor a = f32_tensor({2, 1}, {1, 2}), b = f32_tensor({2, 2}, {3, 4, 5, 6});
  expect_values(run_op("concat", {a, b})[0], {1, 3, 4, 2, 5, 6});
  expect_values(run_op("concat", {f32_tensor({1, 2}, {1, 2}), b}, {{"axis", int64_t{0}}})[0],
                {1, 2, 3, 4, 5, 6});
  Tensor x = f32_tensor({2, 3}, {1, 2, 3, 4, 5, 6});
  Attrs cols = {{"axis", int64_t{1}}, {"begin", int64_t{1}}, {"end", int64_t{3}}};
  expect_values(run_op("slice", {x}, cols)[0], {2, 3, 5, 6});
  Tensor ints = i32_tensor({3, 2}, {1, 2, 3, 4, 5, 6});
  Tensor row = run_op("slice", {ints}, {{"axis", int64_t{0}}, {"begin", int64_t{1}}, {"end", int64_t{2}}})[0];
  EXPECT_EQ(std::vector<int32_t>(row.i32(), row.i32() + row.size()), (std::vector<int32_t>{3, 4}));
}

TEST(ReferenceKernels, FlattenAndReshapeKeepTheOrder) {
  Tensor x = f32_tensor({2, 1, 3}, {1, 2, 3, 4, 5, 6});
  Tensor flat = run_op("flatten", {x})[0];
  EXPECT_EQ(flat.shape(), (Shape{2, 3}));
  expect_values(flat, {1, 2, 3, 4, 5, 6});
  Tensor reshaped = run_op("reshape", {x}, {{"shape", Ints{3, 2}}})[0];
  EXPECT_EQ(reshaped.shape(), (Shape{3, 2}));
  expect_values(reshaped, {1, 2, 3, 4, 5, 6});
}

TEST(ReferenceKernels, LinearAndItsGradients) {
  Tensor x = f32_tensor({1, 2}, {1, 2}), w = f32_tensor({2, 2}, {1, 2, 3, 4});
  expect_values(run_op("linear", {x, w, f32_tensor({2}, {10, 20})})[0], {15, 31});
  expect_values(run_op("linear", {x, w})[0], {5, 11});
  expect_values(run_op("linear_grad_input", {f32_tensor({1, 2}, {1, 1}), w})[0], {4, 6});
  expect_values(run_op("linear_grad_weight", {f32_tensor({1, 2}, {1, 2}), f32_tensor({1, 2}, {3, 4})})[0],
                {3, 4, 6, 8});
}

TEST(ReferenceKernels, ElementwiseOps) {
  expect_values(run_op("relu", {f32_tensor({3}, {-1, 0, 2})})[0], {0, 0, 2});
  expect_values(run_op("relu_grad", {f32_tensor({3}, {5, 5, 5}), f32_tensor({3}, {0, 0, 2})})[0], {0, 0, 5});
  expect_values(run_op("sigmoid", {f32_tensor({2}, {0, 2})})[0], {0.5, float(1 / (1 + std::exp(-2.0)))});
  expect_values(run_op("sigmoid_grad", {f32_tensor({1}, {2}), f32_tensor({1}, {0.5})})[0], {0.5});
  expect_values(run_op("add", {f32_tensor({2}, {1, 2}), f32_tensor({2}, {10, 20})})[0], {11, 22});
}

Attrs axis(int64_t a) { return {{"axis", a}}; }

TEST(ReferenceKernels, SoftmaxHandComputed) {
  // e^k / (e + e² + e³) for k = 1, 2, 3.
  expect_values(run_op("softmax", {f32_tensor({3}, {1, 2, 3})}, axis(0))[0],
                {0.09003057f, 0.24472847f, 0.66524096f}, 1e-7);
  // Without the maximum subtracted, e^1000 would overflow; softmax(1000, 1001) is softmax(0, 1).
  expect_values(run_op("softmax", {f32_tensor({2}, {1000, 1001})}, axis(0))[0], {0.26894142f, 0.73105858f},
                1e-7);
  expect_values(run_op("softmax", {f32_tensor({3}, {-1000, 0, 1000})}, axis(0))[0], {0, 0, 1}, 0);
}

TEST(ReferenceKernels, SoftmaxAlongEachAxis) {
  const Tensor x = f32_tensor({2, 2}, {0, 1, 2, 2});
  const float a = 0.26894142f, b = 0.73105858f;  // softmax(0, 1)
  const float c = 0.11920292f, d = 0.88079708f;  // softmax(0, 2)
  expect_values(run_op("softmax", {x}, axis(1))[0], {a, b, 0.5, 0.5}, 1e-7);
  expect_values(run_op("softmax", {x}, axis(0))[0], {c, a, d, b}, 1e-7);
  // [1,2,2,1] along axis 1: lines {0,2} and {1,3} of the flat order, as on a [2,2] along axis 0.
  expect_values(run_op("softmax", {f32_tensor({1, 2, 2, 1}, {0, 1, 2, 2})}, axis(1))[0], {c, a, d, b}, 1e-7);
  // [2,2,2] along axis 1: lines {0,2}, {1,2} (softmax(0,1) shifted), {0,0} and {0,2}.
  expect_values(run_op("softmax", {f32_tensor({2, 2, 2}, {0, 1, 2, 2, 0, 0, 0, 2})}, axis(1))[0],
                {c, a, d, b, 0.5, c, 0.5, d}, 1e-7);
  // [2,1,2] along axis 1, a line of one element: every value is 1.
  expect_values(run_op("softmax", {f32_tensor({2, 1, 2}, {5, -3, 1000, 7})}, axis(1))[0], {1, 1, 1, 1}, 0);
}

TEST(ReferenceKernels, SoftmaxGradHandComputed) {
  // y = (1/2, 1/2), dy = (1, 0): Σ dy·y = 1/2, dx = y·(dy - 1/2).
  expect_values(run_op("softmax_grad", {f32_tensor({2}, {1, 0}), f32_tensor({2}, {0.5, 0.5})}, axis(0))[0],
                {0.25, -0.25});
  // Along axis 0 of [2,2]: columns (dy 1, 3 with y .25, .75) and (dy 2, 2 with y .5, .5).
  const Tensor dy = f32_tensor({2, 2}, {1, 2, 3, 2}), y = f32_tensor({2, 2}, {0.25, 0.5, 0.75, 0.5});
  const double dot = 0.25 + 3 * 0.75;
  expect_values(run_op("softmax_grad", {dy, y}, axis(0))[0],
                {float(0.25 * (1 - dot)), 0, float(0.75 * (3 - dot)), 0});
}

TEST(ReferenceKernels, SgdUpdateAndFill) {
  expect_values(run_op("sgd_update", {f32_tensor({2}, {1, 2}), f32_tensor({2}, {2, 4}), Tensor(0.5f)})[0],
                {0, 0});
  Tensor filled = run_op("fill", {}, {{"value", 2.5}, {"shape", Ints{2, 2}}})[0];
  EXPECT_EQ(filled.shape(), (Shape{2, 2}));
  expect_values(filled, {2.5, 2.5, 2.5, 2.5});
}

}  // namespace
}  // namespace stratum
