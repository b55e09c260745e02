// The loss and constants: softmax_cross_entropy, fill.
#include "ir/ops/common.h"

namespace stratum::ops {

namespace {

const TensorType kScalar{DType::f32, {}};

void expect_logits_and_labels(const TensorType& logits, const TensorType& labels) {
  expect_rank(logits, 2, "logits");
  expect_dtype(logits, DType::f32, "logits");
  if (labels != TensorType{DType::i32, {logits.shape[0]}}) {
    fail("labels must be i32[{}] for logits {}, got {}", logits.shape[0], type_str(logits), type_str(labels));
  }
}

// (logits [N,K], labels i32[N]) -> mean cross-entropy f32[], count of correct argmax predictions i32[].
std::vector<TensorType> infer_softmax_cross_entropy(const OpCall& call) {
  expect_logits_and_labels(call.inputs[0], call.inputs[1]);
  return {kScalar, {DType::i32, {}}};
}

std::vector<Value*> grad_softmax_cross_entropy(const GradCall& call) {
  const Node& n = call.node;
  if (call.output_grads[0] == nullptr) return {nullptr, nullptr};  // only the count is used
  return {emit(call.graph, "softmax_cross_entropy_grad", {call.output_grads[0], n.input(0), n.input(1)}),
          nullptr};
}

// (dloss f32[], logits, labels) -> dlogits = dloss · (softmax(logits) - onehot(labels)) / N
std::vector<TensorType> infer_softmax_cross_entropy_grad(const OpCall& call) {
  if (call.inputs[0] != kScalar) fail("loss gradient must be f32[], got {}", type_str(call.inputs[0]));
  expect_logits_and_labels(call.inputs[1], call.inputs[2]);
  return {call.inputs[1]};
}

std::vector<TensorType> infer_fill(const OpCall& call) {
  expect_ints(call, "shape", call.attr_ints("shape").size(), 1);
  return {{DType::f32, call.attr_ints("shape")}};
}

}  // namespace

void add_loss_ops(OpList& ops) {
  ops.push_back({"softmax_cross_entropy",
                 2,
                 2,
                 {},
                 infer_softmax_cross_entropy,
                 grad_softmax_cross_entropy,
                 {},
                 "(logits, labels) -> mean cross-entropy of softmax(logits), count of correct predictions",
                 {
                     {{f32({8, 10}), i32({8})}},
                     {{f32({1, 3}), i32({1})}},
                     {{f32({5, 7}), i32({5})}},
                 }});
  ops.push_back({"softmax_cross_entropy_grad",
                 3,
                 3,
                 {},
                 infer_softmax_cross_entropy_grad,
                 nullptr,
                 {},
                 "the loss's backward: (dloss, logits, labels) -> dlogits",
                 {{{f32({}), f32({8, 10}), i32({8})}}}});
  ops.push_back({"fill",
                 0,
                 0,
                 {{"value", AttrKind::kFloat, 0.0}, {"shape", AttrKind::kInts, Ints{}}},
                 infer_fill,
                 nullptr,
                 {},
                 "a constant f32 tensor",
                 {{{}, {{"value", 0.25}, {"shape", Ints{3, 4}}}}}});
}

}  // namespace stratum::ops
