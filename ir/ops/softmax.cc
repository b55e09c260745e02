// softmax along one axis (ONNX opset 13's Softmax) and its backward op.
#include "ir/ops/common.h"

namespace stratum::ops {

namespace {

// No default: the last axis, ONNX's, depends on the rank; importers give it normalised to [0, rank).
const AttrSpec kAxis{"axis", AttrKind::kInt, std::nullopt};

void expect_axis(const OpCall& call, const TensorType& x) {
  expect_dtype(x, DType::f32, "input");
  const int64_t axis = call.attr_int("axis");
  if (axis < 0 || axis >= x.rank()) fail("axis {} is out of range for {}", axis, type_str(x));
}

std::vector<TensorType> infer_softmax(const OpCall& call) {
  expect_axis(call, call.inputs[0]);
  return {call.inputs[0]};
}

// Differentiates through the output y, as sigmoid does.
std::vector<Value*> grad_softmax(const GradCall& call) {
  return {emit(call.graph, "softmax_grad", {call.output_grads[0], call.node.output(0)}, call.node.attrs())};
}

// (dy, y) of one type -> dx
std::vector<TensorType> infer_softmax_grad(const OpCall& call) {
  expect_same_type(call.inputs[0], call.inputs[1], "output gradient and output");
  expect_axis(call, call.inputs[1]);
  return {call.inputs[1]};
}

Attrs axis(int64_t axis) { return {{"axis", axis}}; }

}  // namespace

void add_softmax_ops(OpList& ops) {
  ops.push_back({"softmax",
                 1,
                 1,
                 {kAxis},
                 infer_softmax,
                 grad_softmax,
                 {},
                 "e^x / Σ e^x along an axis (the maximum subtracted first, so no exp overflows)",
                 {
                     {{f32({10})}, axis(0)},
                     {{f32({7, 9})}, axis(1)},
                     {{f32({7, 9})}, axis(0)},
                     {{f32({3, 1, 5})}, axis(1)},
                     {{f32({3, 4, 5})}, axis(2)},
                     {{f32({2, 3, 5, 5})}, axis(1)},
                     {{f32({2, 3, 5, 5})}, axis(3)},
                     {{f32({2, 3, 4, 5})}, axis(0)},
                     {{f32({2, 3}, Fill::kLarge)}, axis(1)},
                 }});
  ops.push_back({"softmax_grad",
                 2,
                 2,
                 {kAxis},
                 infer_softmax_grad,
                 nullptr,
                 {},
                 "softmax's backward: (dy, y) -> y·(dy - Σ_axis dy·y)",
                 {{{f32({7, 9}), f32({7, 9})}, axis(1)}, {{f32({2, 3, 4, 5}), f32({2, 3, 4, 5})}, axis(0)}}});
}

}  // namespace stratum::ops
