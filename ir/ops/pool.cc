// max_pool, avg_pool (padding counts in the divisor unless count_include_pad is false), global_avg_pool, and
// backward ops.
#include "ir/op_attrs.h"
#include "ir/ops/common.h"

namespace stratum::ops {

namespace {

const AttrSpec kKernel{"kernel", AttrKind::kInts, std::nullopt};
const AttrSpec kPoolStride{"stride", AttrKind::kInts, std::nullopt};
// The defaults are PoolAttrs' (ir/op_attrs.h).
const AttrSpec kPoolPadding{"padding", AttrKind::kInts, PoolAttrs{}.padding};
const AttrSpec kInputShape{"input_shape", AttrKind::kInts, std::nullopt};
// true: avg_pool divides by the kernel area (PyTorch's default, ONNX count_include_pad=1); false: by the
// window's elements that are not padding (ONNX's default).
const AttrSpec kCountIncludePad{"count_include_pad", AttrKind::kBool, PoolAttrs{}.count_include_pad};

Shape pool_output_shape(const OpCall& call, const TensorType& x) {
  expect_rank(x, 4, "input");
  expect_float(x, "input");
  expect_ints(call, "kernel", 2, 1);
  expect_ints(call, "stride", 2, 1);
  expect_ints(call, "padding", 2, 0);
  Shape y = {x.shape[0], x.shape[1], 0, 0};
  for (int i = 0; i < 2; ++i) {
    const int64_t k = call.attr_ints("kernel")[i], s = call.attr_ints("stride")[i];
    const int64_t p = call.attr_ints("padding")[i];
    const int64_t padding = checked_mul(2, p, "the padding");
    if (padding > k)
      fail("padding {} must be at most half the kernel {}", attr_str(call.attr_ints("padding")),
           attr_str(call.attr_ints("kernel")));
    const int64_t padded = checked_add(x.shape[2 + i], padding, "the padded input");
    if (padded < k)
      fail("the kernel {} does not fit the padded input {}", attr_str(call.attr_ints("kernel")), type_str(x));
    y[2 + i] = (padded - k) / s + 1;
  }
  return y;
}

std::vector<TensorType> infer_pool(const OpCall& call) {
  return {{call.inputs[0].dtype, pool_output_shape(call, call.inputs[0])}};
}

std::vector<Value*> grad_max_pool(const GradCall& call) {
  return {emit(call.graph, "max_pool_grad", {call.output_grads[0], call.node.input(0)}, call.node.attrs())};
}

// (dy, x) -> dx: dy routed to the first maximum of each window of x.
std::vector<TensorType> infer_max_pool_grad(const OpCall& call) {
  const TensorType& x = call.inputs[1];
  const TensorType y{x.dtype, pool_output_shape(call, x)};
  if (call.inputs[0] != y) fail("output gradient must be {}, got {}", type_str(y), type_str(call.inputs[0]));
  return {x};
}

std::vector<Value*> grad_avg_pool(const GradCall& call) {
  Attrs attrs = with(call.node.attrs(), {{"input_shape", call.node.input(0)->type().shape}});
  return {emit(call.graph, "avg_pool_grad", {call.output_grads[0]}, attrs)};
}

std::vector<TensorType> infer_avg_pool_grad(const OpCall& call) {
  TensorType x{call.inputs[0].dtype, call.attr_ints("input_shape")};
  check_type(x);  // an attribute: no graph value has checked it
  const TensorType y{x.dtype, pool_output_shape(call, x)};
  if (call.inputs[0] != y) fail("output gradient must be {}, got {}", type_str(y), type_str(call.inputs[0]));
  return {x};
}

std::vector<TensorType> infer_global_avg_pool(const OpCall& call) {
  const TensorType& x = call.inputs[0];
  expect_rank(x, 4, "input");
  expect_float(x, "input");
  return {{x.dtype, {x.shape[0], x.shape[1], 1, 1}}};
}

std::vector<Value*> grad_global_avg_pool(const GradCall& call) {
  return {emit(call.graph, "global_avg_pool_grad", {call.output_grads[0]},
               {{"input_shape", call.node.input(0)->type().shape}})};
}

std::vector<TensorType> infer_global_avg_pool_grad(const OpCall& call) {
  expect_float(call.inputs[0], "output gradient");
  TensorType x{call.inputs[0].dtype, call.attr_ints("input_shape")};
  expect_rank(x, 4, "input_shape");
  TensorType y{x.dtype, {x.shape[0], x.shape[1], 1, 1}};
  if (call.inputs[0] != y) fail("output gradient must be {}, got {}", type_str(y), type_str(call.inputs[0]));
  return {x};
}

// (y, dy) -> dx: sigmoid_grad(avg_pool_grad(dy), y), fused (passes/fusion.h): the gradient at the input of
// the sigmoid whose output y an avg_pool read, from dy at the pool's output.
std::vector<TensorType> infer_avg_pool_sigmoid_grad(const OpCall& call) {
  const TensorType y{call.inputs[0].dtype, pool_output_shape(call, call.inputs[0])};
  if (call.inputs[1] != y) fail("output gradient must be {}, got {}", type_str(y), type_str(call.inputs[1]));
  return {call.inputs[0]};
}

// Examples' attributes (count_include_pad only where it is false: max_pool has none).
Attrs pool(Ints kernel, Ints stride, Ints padding = {0, 0}, bool count_include_pad = true) {
  Attrs attrs = {{"kernel", kernel}, {"stride", stride}, {"padding", padding}};
  if (!count_include_pad) attrs["count_include_pad"] = false;
  return attrs;
}

}  // namespace

void add_pool_ops(OpList& ops) {
  ops.push_back({"max_pool",
                 1,
                 1,
                 {kKernel, kPoolStride, kPoolPadding},
                 infer_pool,
                 grad_max_pool,
                 {},
                 "max pooling over kernel windows (padding never wins)",
                 {
                     {{f32({2, 3, 8, 8}, Fill::kDistinct)}, pool({2, 2}, {2, 2})},
                     {{f32({1, 2, 9, 9}, Fill::kDistinct)}, pool({3, 3}, {2, 2}, {1, 1})},
                     {{f32({2, 3, 7, 10}, Fill::kDistinct)}, pool({3, 2}, {1, 2}, {1, 0})},
                     {{f32({1, 2, 3, 4}, Fill::kDistinct)}, pool({2, 3}, {1, 2}, {1, 1})},
                     {{f32({2, 4, 13, 13}, Fill::kDistinct)}, pool({3, 3}, {2, 2})},
                 }});
  ops.push_back({"max_pool_grad",
                 2,
                 2,
                 {kKernel, kPoolStride, kPoolPadding},
                 infer_max_pool_grad,
                 nullptr,
                 {},
                 "max_pool's backward: (dy, x) -> dx",
                 {
                     {{f32({2, 3, 4, 4}), f32({2, 3, 8, 8}, Fill::kDistinct)}, pool({2, 2}, {2, 2})},
                     {{f32({1, 2, 5, 5}), f32({1, 2, 9, 9}, Fill::kDistinct)}, pool({3, 3}, {2, 2}, {1, 1})},
                 }});
  ops.push_back({"avg_pool",
                 1,
                 1,
                 {kKernel, kPoolStride, kPoolPadding, kCountIncludePad},
                 infer_pool,
                 grad_avg_pool,
                 {},
                 "average pooling; padded positions count in the divisor unless count_include_pad=false",
                 {
                     {{f32({2, 3, 8, 8})}, pool({2, 2}, {2, 2})},
                     {{f32({1, 2, 9, 9})}, pool({3, 3}, {2, 2}, {1, 1})},
                     {{f32({1, 2, 9, 9})}, pool({3, 3}, {2, 2}, {1, 1}, false)},
                     {{f32({2, 3, 7, 10})}, pool({3, 2}, {1, 2}, {1, 0})},
                     {{f32({2, 3, 7, 10})}, pool({3, 2}, {1, 2}, {1, 0}, false)},
                     {{f32({1, 1, 3, 4})}, pool({3, 3}, {1, 1}, {1, 1}, false)},
                     {{f32({2, 4, 13, 13})}, pool({3, 3}, {2, 2})},
                 }});
  ops.push_back({"avg_pool_grad",
                 1,
                 1,
                 {kKernel, kPoolStride, kPoolPadding, kCountIncludePad, kInputShape},
                 infer_avg_pool_grad,
                 nullptr,
                 {},
                 "avg_pool's backward: dy -> dx",
                 {
                     {{f32({2, 3, 4, 4})}, with(pool({2, 2}, {2, 2}), {{"input_shape", Ints{2, 3, 8, 8}}})},
                     {{f32({1, 2, 5, 5})},
                      with(pool({3, 3}, {2, 2}, {1, 1}, false), {{"input_shape", Ints{1, 2, 9, 9}}})},
                 }});
  ops.push_back({"avg_pool_sigmoid_grad",
                 2,
                 2,
                 {kKernel, kPoolStride, kPoolPadding, kCountIncludePad},
                 infer_avg_pool_sigmoid_grad,
                 nullptr,
                 {.inplace = true},
                 "sigmoid_grad of avg_pool_grad, fused: (y the sigmoid's output, dy) -> dx",
                 {
                     {{f32({2, 3, 7, 7}), f32({2, 3, 3, 3})}, pool({2, 2}, {2, 2})},
                     {{f32({2, 3, 7, 7}), f32({2, 3, 4, 4})}, pool({3, 3}, {2, 2}, {1, 1})},
                 }});
  ops.push_back({"global_avg_pool",
                 1,
                 1,
                 {},
                 infer_global_avg_pool,
                 grad_global_avg_pool,
                 {},
                 "mean over H and W: [N,C,H,W] -> [N,C,1,1]",
                 {{{f32({2, 5, 3, 3})}}, {{f32({1, 7, 6, 5})}}}});
  ops.push_back({"global_avg_pool_grad",
                 1,
                 1,
                 {kInputShape},
                 infer_global_avg_pool_grad,
                 nullptr,
                 {},
                 "global_avg_pool's backward: dy -> dx",
                 {{{f32({2, 5, 1, 1})}, {{"input_shape", Ints{2, 5, 3, 3}}}}}});
}

}  // namespace stratum::ops
