// The fused ops the fusion passes (passes/fusion.h) make: conv2d -> batch_norm (-> relu) for training, with
// its backward, the folding of an inference batch_norm into a conv's weights, and an inference batch_norm
// that reads the parts of a channel concat instead of the concat. conv2d, linear, add and
// batch_norm fuse a following relu through their own `relu` attribute.
#include "ir/ops/common.h"

namespace stratum::ops {

namespace {

// Inputs x [N,C,H,W] and w [O,C/groups,kh,kw]; checks the conv and returns its output type.
TensorType conv_type(const OpCall& call, const TensorType& x, const TensorType& w) {
  expect_rank(x, 4, "input");
  expect_rank(w, 4, "weight");
  expect_float(x, "input");
  expect_dtype(w, x.dtype, "weight");
  return {x.dtype, conv_output_shape(call, x.shape, w.shape)};
}

// (x, w, b, gamma, beta, running mean, running var) -> y, z, mean, var, new running mean, new running var:
// z = conv2d(x, w, b), then batch_norm in training (and relu) of z into y. z is kept for the backward.
std::vector<TensorType> infer_conv_bn(const OpCall& call) {
  const TensorType z = conv_type(call, call.inputs[0], call.inputs[1]);
  const TensorType channel = channel_type(z);
  expect_channel_inputs(call, channel, {2, 3, 4, 5, 6},
                        {"bias", "gamma", "beta", "running mean", "running var"});
  check_norm_attrs(call, /*training=*/true, z);
  return {z, z, channel, channel, channel, channel};
}

// (dy, x, w, z, gamma, beta, saved mean, saved var) -> dx, dw, db, dgamma, dbeta.
std::vector<TensorType> infer_conv_bn_grad(const OpCall& call) {
  const TensorType &dy = call.inputs[0], &x = call.inputs[1], &w = call.inputs[2];
  const TensorType z = conv_type(call, x, w);
  if (dy != z || call.inputs[3] != z) {
    fail("output gradient {} and z {} must be the convolution's output {}", type_str(dy),
         type_str(call.inputs[3]), type_str(z));
  }
  const TensorType channel = channel_type(z);
  expect_channel_inputs(call, channel, {4, 5, 6, 7}, {"gamma", "beta", "mean", "var"});
  return {x, w, channel, channel, channel};
}

// (w, b, gamma, beta, mean, var) -> w', b': the conv whose output an inference batch_norm normalises,
// with that batch_norm folded in. s = gamma/sqrt(var + eps): w' = w·s per output channel, b' = (b - mean)·s
// + beta.
std::vector<TensorType> infer_fold_batch_norm(const OpCall& call) {
  const TensorType& w = call.inputs[0];
  expect_rank(w, 4, "weight");
  expect_float(w, "weight");
  const TensorType channel{DType::f32, {w.shape[0]}};
  expect_channel_inputs(call, channel, {1, 2, 3, 4, 5}, {"bias", "gamma", "beta", "mean", "var"});
  check_eps(call);
  return {w, channel};
}

// (x_1, ..., x_k, gamma, beta, mean, var) -> y: inference batch_norm (then relu) of concat(x_1, ..., x_k)
// along the channels, without the concat.
std::vector<TensorType> infer_concat_batch_norm(const OpCall& call) {
  const std::vector<TensorType> parts(call.inputs.begin(), call.inputs.end() - 4);
  const TensorType x = concatenated(parts, 1);
  const TensorType channel = channel_type(x);
  const int k = static_cast<int>(parts.size());
  expect_channel_inputs(call, channel, {k, k + 1, k + 2, k + 3}, {"gamma", "beta", "mean", "var"});
  check_eps(call);
  return {x};
}

// Examples' inputs: a 3x3 conv of 3 channels into 4 with batch norm, and a batch norm of 3+1+5 channels.
std::vector<ExampleInput> conv_bn_inputs() {
  return {f32({2, 3, 6, 6}), f32({4, 3, 3, 3}),        f32({4}), f32({4}), f32({4}),
          f32({4}),          f32({4}, Fill::kPositive)};
}
std::vector<ExampleInput> conv_bn_grad_inputs() {
  return {f32({2, 4, 6, 6}), f32({2, 3, 6, 6}), f32({4, 3, 3, 3}), f32({2, 4, 6, 6}),
          f32({4}),          f32({4}),          f32({4}),          f32({4}, Fill::kPositive)};
}
std::vector<ExampleInput> concat_batch_norm_inputs() {
  return {f32({2, 3, 4, 5}), f32({2, 1, 4, 5}), f32({2, 5, 4, 5}),        f32({9}),
          f32({9}),          f32({9}),          f32({9}, Fill::kPositive)};
}

}  // namespace

void add_fused_ops(OpList& ops) {
  ops.push_back(
      {"conv_bn",
       7,
       7,
       {kStride, kPadding, kDilation, kGroups, kEps, kMomentum, kRelu},
       infer_conv_bn,
       nullptr,
       {},
       "fused conv2d -> batch_norm (training) -> relu: (x, w, b, gamma, beta, running mean, running "
       "var) -> y, z, mean, var, new running mean, new running var",
       {
           {conv_bn_inputs(), {{"padding", Ints{1, 1}}, {"relu", true}}},
           {conv_bn_inputs(), {{"padding", Ints{1, 1}}}},
       }});
  ops.push_back(
      {"conv_bn_grad",
       8,
       8,
       {kStride, kPadding, kDilation, kGroups, kEps, kRelu},
       infer_conv_bn_grad,
       nullptr,
       {},
       "conv_bn's backward: (dy, x, w, z, gamma, beta, saved mean, saved var) -> dx, dw, db, dgamma, "
       "dbeta",
       {
           {conv_bn_grad_inputs(), {{"padding", Ints{1, 1}}, {"relu", true}}},
           {conv_bn_grad_inputs(), {{"padding", Ints{1, 1}}}},
       }});
  ops.push_back(
      {"fold_batch_norm",
       6,
       6,
       {kEps},
       infer_fold_batch_norm,
       nullptr,
       {},
       "an inference batch_norm folded into the conv before it: (w, b, gamma, beta, mean, var) -> w', "
       "b'",
       {{{f32({4, 3, 3, 3}), f32({4}), f32({4}), f32({4}), f32({4}), f32({4}, Fill::kPositive)}}}});
  ops.push_back({"concat_batch_norm",
                 5,
                 -1,
                 {kEps, kRelu},
                 infer_concat_batch_norm,
                 nullptr,
                 {},
                 "inference batch_norm (then relu) of the inputs' concat along the channels, never formed: "
                 "(x_1, ..., x_k, gamma, beta, mean, var) -> y",
                 {
                     {concat_batch_norm_inputs(), {{"relu", true}}},
                     {concat_batch_norm_inputs()},
                 }});
}

}  // namespace stratum::ops
