// linear (PyTorch's layout: y = x·wᵀ + b, w [M,K]) and its backward ops.
#include "ir/ops/common.h"

namespace stratum::ops {

namespace {

void expect_matrix(const TensorType& type, const char* what) {
  expect_rank(type, 2, what);
  expect_float(type, what);
}

std::vector<TensorType> infer_linear(const OpCall& call) {
  const TensorType &x = call.inputs[0], &w = call.inputs[1];
  expect_matrix(x, "input");
  expect_matrix(w, "weight");
  expect_dtype(w, x.dtype, "weight");
  if (x.shape[1] != w.shape[1]) {
    fail("input has {} features but the weight {} expects {}", x.shape[1], type_str(w), w.shape[1]);
  }
  if (call.inputs.size() == 3 && call.inputs[2] != TensorType{DType::f32, {w.shape[0]}}) {
    fail("bias must be f32[{}], got {}", w.shape[0], type_str(call.inputs[2]));
  }
  return {{x.dtype, {x.shape[0], w.shape[0]}}};
}

std::vector<Value*> grad_linear(const GradCall& call) {
  const Node& n = call.node;
  Value* dy = call.output_grads[0];
  std::vector<Value*> grads = {emit(call.graph, "linear_grad_input", {dy, n.input(1)}),
                               emit(call.graph, "linear_grad_weight", {dy, n.input(0)})};
  if (n.inputs().size() == 3) grads.push_back(emit(call.graph, "bias_grad", {dy}));
  return grads;
}

// (dy [N,M], w [M,K]) -> dx = dy·w [N,K]
std::vector<TensorType> infer_linear_grad_input(const OpCall& call) {
  const TensorType &dy = call.inputs[0], &w = call.inputs[1];
  expect_matrix(dy, "output gradient");
  expect_matrix(w, "weight");
  expect_dtype(w, dy.dtype, "weight");
  if (dy.shape[1] != w.shape[0])
    fail("output gradient {} does not match weight {}", type_str(dy), type_str(w));
  return {{dy.dtype, {dy.shape[0], w.shape[1]}}};
}

// (dy [N,M], x [N,K]) -> dw = dyᵀ·x [M,K]
std::vector<TensorType> infer_linear_grad_weight(const OpCall& call) {
  const TensorType &dy = call.inputs[0], &x = call.inputs[1];
  expect_matrix(dy, "output gradient");
  expect_matrix(x, "input");
  expect_dtype(x, dy.dtype, "input");
  if (dy.shape[0] != x.shape[0])
    fail("output gradient {} and input {} differ in batch", type_str(dy), type_str(x));
  return {{dy.dtype, {dy.shape[1], x.shape[1]}}};
}

}  // namespace

void add_linear_ops(OpList& ops) {
  ops.push_back({"linear",
                 2,
                 3,
                 {kRelu},
                 infer_linear,
                 grad_linear,
                 {},
                 "x [N,K] · wᵀ (w [M,K]) + bias [M], then relu",
                 {
                     {{f32({4, 9}), f32({5, 9}), f32({5})}},
                     {{f32({1, 16}), f32({3, 16}), f32({3})}},
                     {{f32({7, 6}), f32({10, 6})}},
                     {{f32({5, 7}), f32({6, 7}), f32({6})}, {{"relu", true}}},
                 }});
  ops.push_back({"linear_grad_input",
                 2,
                 2,
                 {},
                 infer_linear_grad_input,
                 nullptr,
                 {},
                 "linear's gradient with respect to its input: (dy, w) -> dy·w",
                 {{{f32({4, 5}), f32({5, 9})}}}});
  ops.push_back({"linear_grad_weight",
                 2,
                 2,
                 {},
                 infer_linear_grad_weight,
                 nullptr,
                 {},
                 "linear's gradient with respect to its weight: (dy, x) -> dyᵀ·x",
                 {{{f32({4, 5}), f32({4, 9})}}}});
}

}  // namespace stratum::ops
