// batch_norm (training with batch statistics, or inference with running statistics) and its backward op.
#include "ir/ops/common.h"

namespace stratum::ops {

namespace {

// x is [N,C] or [N,C,H,W]; statistics are per channel C.
TensorType channel_type(const TensorType& x) {
  if (x.rank() != 2 && x.rank() != 4) fail("input must have rank 2 or 4, got {}", type_str(x));
  expect_dtype(x, DType::f32, "input");
  return {DType::f32, {x.shape[1]}};
}

void expect_channel_inputs(const OpCall& call, const TensorType& channel,
                           std::initializer_list<int> indices) {
  static const char* const kNames[] = {"input", "gamma", "beta", "mean", "var"};
  for (int i : indices) {
    if (call.inputs[i] != channel)
      fail("{} must be {}, got {}", kNames[i], type_str(channel), type_str(call.inputs[i]));
  }
}

// Training: y, the batch mean and biased variance (saved for backward), and the new running mean and
// unbiased variance (momentum-weighted, as PyTorch). Inference: y from the running statistics.
std::vector<TensorType> infer_batch_norm(const OpCall& call) {
  const TensorType channel = channel_type(call.inputs[0]);
  expect_channel_inputs(call, channel, {1, 2, 3, 4});
  if (call.attr_float("eps") <= 0) fail("eps must be positive, got {}", call.attr_float("eps"));
  const double momentum = call.attr_float("momentum");
  if (momentum < 0 || momentum > 1) fail("momentum must be in [0,1], got {}", momentum);
  if (!call.attr_bool("training")) return {call.inputs[0]};
  if (num_elements(call.inputs[0].shape) / channel.shape[0] < 2) {
    fail("training needs more than one value per channel, got input {}", type_str(call.inputs[0]));
  }
  return {call.inputs[0], channel, channel, channel, channel};
}

std::vector<Value*> grad_batch_norm(const GradCall& call) {
  const Node& n = call.node;
  if (!n.attr_bool("training"))
    fail("batch_norm in inference mode has no gradient; build the net for training");
  Value* dy = call.output_grads[0];
  if (dy == nullptr) return {nullptr, nullptr, nullptr, nullptr, nullptr};
  Node* grad = call.graph.add_node("batch_norm_grad", {dy, n.input(0), n.input(1), n.output(1), n.output(2)},
                                   {{"eps", n.attrs().at("eps")}});
  return {grad->output(0), grad->output(1), grad->output(2), nullptr, nullptr};
}

// (dy, x, gamma, saved mean, saved var) -> dx, dgamma, dbeta.
std::vector<TensorType> infer_batch_norm_grad(const OpCall& call) {
  expect_same_type(call.inputs[0], call.inputs[1], "output gradient and input");
  const TensorType channel = channel_type(call.inputs[1]);
  expect_channel_inputs(call, channel, {2, 3, 4});
  return {call.inputs[1], channel, channel};
}

const AttrSpec kEps{"eps", AttrKind::kFloat, 1e-5};

}  // namespace

void add_norm_ops(OpList& ops) {
  ops.push_back({"batch_norm",
                 5,
                 5,
                 {kEps, {"momentum", AttrKind::kFloat, 0.1}, {"training", AttrKind::kBool, true}},
                 infer_batch_norm,
                 grad_batch_norm,
                 {},
                 "batch normalisation of x by (gamma, beta, running mean, running var)"});
  ops.push_back({"batch_norm_grad",
                 5,
                 5,
                 {kEps},
                 infer_batch_norm_grad,
                 nullptr,
                 {},
                 "batch_norm's backward: (dy, x, gamma, saved mean, saved var) -> dx, dgamma, dbeta"});
}

}  // namespace stratum::ops
