// conv2d and its backward ops.
#include "ir/op_attrs.h"
#include "ir/ops/common.h"

namespace stratum::ops {

// The defaults are ConvAttrs' (ir/op_attrs.h).
const AttrSpec kStride{"stride", AttrKind::kInts, ConvAttrs{}.stride};
const AttrSpec kPadding{"padding", AttrKind::kInts, ConvAttrs{}.padding};
const AttrSpec kDilation{"dilation", AttrKind::kInts, ConvAttrs{}.dilation};
const AttrSpec kGroups{"groups", AttrKind::kInt, ConvAttrs{}.groups};

namespace {

void check_window_attrs(const OpCall& call) {
  expect_ints(call, "stride", 2, 1);
  expect_ints(call, "padding", 2, 0);
  expect_ints(call, "dilation", 2, 1);
  if (call.attr_int("groups") < 1) fail("groups must be at least 1, got {}", call.attr_int("groups"));
}

}  // namespace

// x [N,C,H,W], w [O,C/groups,kh,kw].
Shape conv_output_shape(const OpCall& call, const Shape& x, const Shape& w) {
  check_window_attrs(call);
  const int64_t groups = call.attr_int("groups");
  const int64_t channels = checked_mul(w[1], groups, "the weight's channels × groups");
  if (x[1] != channels) {
    fail("input has {} channels but the weight expects {} (weight {} × groups {})", x[1], channels,
         shape_str(w), groups);
  }
  if (w[0] % groups != 0) fail("{} output channels do not divide into {} groups", w[0], groups);
  Shape y = {x[0], w[0], 0, 0};
  for (int i = 0; i < 2; ++i) {
    const int64_t s = call.attr_ints("stride")[i], p = call.attr_ints("padding")[i];
    const int64_t d = call.attr_ints("dilation")[i];
    const int64_t span =
        checked_add(checked_mul(d, w[2 + i] - 1, "the dilated kernel"), 1, "the dilated kernel");
    const int64_t padded = checked_add(x[2 + i], checked_mul(2, p, "the padding"), "the padded input");
    if (padded < span) {
      fail("the {} kernel (dilated extent {}) does not fit the padded input {} (input {}, padding {})",
           i == 0 ? "height" : "width", span, padded, shape_str(x), attr_str(call.attr_ints("padding")));
    }
    y[2 + i] = (padded - span) / s + 1;
  }
  return y;
}

namespace {

std::vector<TensorType> infer_conv2d(const OpCall& call) {
  const TensorType &x = call.inputs[0], &w = call.inputs[1];
  expect_rank(x, 4, "input");
  expect_rank(w, 4, "weight");
  expect_float(x, "input");
  expect_dtype(w, x.dtype, "weight");
  Shape y = conv_output_shape(call, x.shape, w.shape);
  if (call.inputs.size() >= 3 && call.inputs[2] != TensorType{DType::f32, {w.shape[0]}}) {
    fail("bias must be f32[{}], got {}", w.shape[0], type_str(call.inputs[2]));
  }
  const TensorType out{x.dtype, y};
  if (call.inputs.size() == 4 && call.inputs[3] != out)
    fail("residual must be the output's type {}, got {}", type_str(out), type_str(call.inputs[3]));
  return {out};
}

std::vector<Value*> grad_conv2d(const GradCall& call) {
  const Node& n = call.node;
  Value *dy = call.output_grads[0], *x = n.input(0), *w = n.input(1);
  Attrs a = n.attrs();
  a.erase("relu");
  std::vector<Value*> grads = {
      emit(call.graph, "conv2d_grad_input", {dy, w}, with(a, {{"input_shape", x->type().shape}})),
      emit(call.graph, "conv2d_grad_weight", {dy, x}, with(a, {{"weight_shape", w->type().shape}}))};
  if (n.inputs().size() == 3) grads.push_back(emit(call.graph, "bias_grad", {dy}));
  return grads;
}

// Checks that a convolution of `x` by `w` gives `dy`'s shape.
void expect_conv_pair(const OpCall& call, const Shape& x, const Shape& w, const TensorType& dy) {
  expect_float(dy, "output gradient");
  for (const TensorType& input : call.inputs) expect_dtype(input, dy.dtype, "every input");
  if (x.size() != 4 || w.size() != 4) fail("input_shape and weight_shape must have 4 dims");
  check_type({DType::f32, x});  // attributes: no graph value has checked them
  check_type({DType::f32, w});
  Shape y = conv_output_shape(call, x, w);
  if (dy.shape != y)
    fail("output gradient {} does not match the convolution's output {}", type_str(dy), shape_str(y));
}

std::vector<TensorType> infer_conv2d_grad_input(const OpCall& call) {
  const TensorType &dy = call.inputs[0], &w = call.inputs[1];
  expect_rank(w, 4, "weight");
  const Ints& x = call.attr_ints("input_shape");
  expect_conv_pair(call, x, w.shape, dy);
  return {{dy.dtype, x}};
}

std::vector<TensorType> infer_conv2d_grad_weight(const OpCall& call) {
  const TensorType &dy = call.inputs[0], &x = call.inputs[1];
  expect_rank(x, 4, "input");
  const Ints& w = call.attr_ints("weight_shape");
  expect_conv_pair(call, x.shape, w, dy);
  return {{dy.dtype, w}};
}

std::vector<TensorType> infer_bias_grad(const OpCall& call) {
  const TensorType& dy = call.inputs[0];
  if (dy.rank() < 2) fail("output gradient must have rank 2 or more, got {}", type_str(dy));
  expect_float(dy, "output gradient");
  return {{DType::f32, {dy.shape[1]}}};
}

}  // namespace

void add_conv_ops(OpList& ops) {
  ops.push_back(
      {"conv2d",
       2,
       4,
       {kStride, kPadding, kDilation, kGroups, kRelu},
       infer_conv2d,
       grad_conv2d,
       {.fused_inputs = 1},
       "2-D convolution (cross-correlation) of x [N,C,H,W] by w [O,C/groups,kh,kw], plus bias [O] "
       "(and, fused, "
       "a residual [N,O,OH,OW], then relu)",
       {
           {{f32({2, 3, 7, 7}), f32({4, 3, 3, 3}), f32({4})}},
           {{f32({1, 3, 9, 9}), f32({5, 3, 3, 3}), f32({5})},
            {{"stride", Ints{2, 2}}, {"padding", Ints{1, 1}}}},
           {{f32({2, 4, 8, 8}), f32({6, 2, 3, 3})}, {{"padding", Ints{1, 1}}, {"groups", int64_t{2}}}},
           {{f32({2, 2, 9, 7}), f32({3, 2, 3, 3}), f32({3})},
            {{"stride", Ints{1, 2}}, {"padding", Ints{2, 1}}, {"dilation", Ints{2, 1}}}},
           {{f32({1, 4, 6, 5}), f32({2, 2, 2, 3})},
            {{"stride", Ints{2, 1}},
             {"padding", Ints{1, 0}},
             {"dilation", Ints{2, 1}},
             {"groups", int64_t{2}}}},
           {{f32({1, 1, 28, 28}), f32({6, 1, 5, 5}), f32({6})}, {{"padding", Ints{2, 2}}}},
           {{f32({2, 3, 11, 11}), f32({8, 3, 11, 11}), f32({8})},
            {{"stride", Ints{4, 4}}, {"padding", Ints{1, 1}}}},
           {{f32({2, 6, 5, 5}), f32({6, 2, 1, 1}), f32({6})}, {{"groups", int64_t{3}}}},
           {{f32({2, 3, 7, 7}), f32({4, 3, 3, 3}), f32({4})}, {{"relu", true}}},
           {{f32({2, 4, 9, 9}), f32({8, 4, 3, 3}), f32({8}), f32({2, 8, 5, 5})},
            {{"stride", Ints{2, 2}}, {"padding", Ints{1, 1}}, {"relu", true}}},
           {{f32({2, 4, 9, 9}), f32({8, 4, 3, 3}), f32({8}), f32({2, 8, 5, 5})},
            {{"stride", Ints{2, 2}}, {"padding", Ints{1, 1}}}},
       }});
  ops.push_back({"conv2d_grad_input",
                 2,
                 2,
                 {kStride, kPadding, kDilation, kGroups, {"input_shape", AttrKind::kInts, std::nullopt}},
                 infer_conv2d_grad_input,
                 nullptr,
                 {},
                 "conv2d's gradient with respect to its input: (dy, w) -> dx",
                 {
                     {{f32({2, 4, 5, 5}), f32({4, 3, 3, 3})},
                      {{"stride", Ints{2, 2}}, {"padding", Ints{1, 1}}, {"input_shape", Ints{2, 3, 9, 9}}}},
                     {{f32({2, 6, 8, 8}), f32({6, 2, 3, 3})},
                      {{"padding", Ints{1, 1}}, {"groups", int64_t{2}}, {"input_shape", Ints{2, 4, 8, 8}}}},
                 }});
  ops.push_back({"conv2d_grad_weight",
                 2,
                 2,
                 {kStride, kPadding, kDilation, kGroups, {"weight_shape", AttrKind::kInts, std::nullopt}},
                 infer_conv2d_grad_weight,
                 nullptr,
                 {},
                 "conv2d's gradient with respect to its weight: (dy, x) -> dw",
                 {
                     {{f32({2, 4, 5, 5}), f32({2, 3, 9, 9})},
                      {{"stride", Ints{2, 2}}, {"padding", Ints{1, 1}}, {"weight_shape", Ints{4, 3, 3, 3}}}},
                     {{f32({2, 6, 8, 8}), f32({2, 4, 8, 8})},
                      {{"padding", Ints{1, 1}}, {"groups", int64_t{2}}, {"weight_shape", Ints{6, 2, 3, 3}}}},
                 }});
  ops.push_back({"bias_grad",
                 1,
                 1,
                 {},
                 infer_bias_grad,
                 nullptr,
                 {},
                 "a bias's gradient: dy summed over every axis but 1",
                 {{{f32({2, 4, 5, 5})}}, {{f32({3, 7})}}}});
}

}  // namespace stratum::ops
