// batch_norm (training with batch statistics, or inference with running statistics) and its backward op.
#include "ir/op_attrs.h"
#include "ir/ops/common.h"

namespace stratum::ops {

// The defaults are BatchNormAttrs' (ir/op_attrs.h).
const AttrSpec kEps{"eps", AttrKind::kFloat, BatchNormAttrs{}.eps};
const AttrSpec kMomentum{"momentum", AttrKind::kFloat, BatchNormAttrs{}.momentum};
const AttrSpec kTraining{"training", AttrKind::kBool, BatchNormAttrs{}.training};
// Training: the statistics (and the backward's sums) are the whole batch's, over every data-parallel rank
// (backends/world.h), rather than this rank's part's.
const AttrSpec kSync{"sync", AttrKind::kBool, false};

// x is [N,C] or [N,C,H,W]; statistics are per channel C.
TensorType channel_type(const TensorType& x) {
  if (x.rank() != 2 && x.rank() != 4) fail("input must have rank 2 or 4, got {}", type_str(x));
  expect_float(x, "input");
  return {DType::f32, {x.shape[1]}};
}

void expect_channel_inputs(const OpCall& call, const TensorType& channel, std::initializer_list<int> indices,
                           std::initializer_list<const char*> names) {
  auto name = names.begin();
  for (int i : indices) {
    if (call.inputs[i] != channel)
      fail("{} must be {}, got {}", *name, type_str(channel), type_str(call.inputs[i]));
    ++name;
  }
}

void check_eps(const OpCall& call) {
  if (call.attr_float("eps") <= 0) fail("eps must be positive, got {}", call.attr_float("eps"));
}

void check_norm_attrs(const OpCall& call, bool training, const TensorType& x) {
  check_eps(call);
  const double momentum = call.attr_float("momentum");
  if (momentum < 0 || momentum > 1) fail("momentum must be in [0,1], got {}", momentum);
  if (training && num_elements(x.shape) / x.shape[1] < 2)
    fail("training needs more than one value per channel, got input {}", type_str(x));
}

void expect_relu_beta(const OpCall& call, size_t beta) {
  if (call.attr_bool("relu") != (call.inputs.size() > beta))
    fail("beta (input {}) is given exactly when relu is set", beta);
  if (call.inputs.size() > beta && call.inputs[beta] != call.inputs[2])
    fail("beta must be {}, got {}", type_str(call.inputs[2]), type_str(call.inputs[beta]));
}

namespace {

// Training: y, the batch mean and biased variance (saved for backward), and the new running mean and
// unbiased variance (momentum-weighted, as PyTorch). Inference: y from the running statistics.
std::vector<TensorType> infer_batch_norm(const OpCall& call) {
  const TensorType channel = channel_type(call.inputs[0]);
  expect_channel_inputs(call, channel, {1, 2, 3, 4}, {"gamma", "beta", "mean", "var"});
  check_norm_attrs(call, call.attr_bool("training"), call.inputs[0]);
  if (call.attr_bool("sync") && !call.attr_bool("training")) fail("sync is for training");
  if (!call.attr_bool("training")) return {call.inputs[0]};
  return {call.inputs[0], channel, channel, channel, channel};
}

std::vector<Value*> grad_batch_norm(const GradCall& call) {
  const Node& n = call.node;
  if (!n.attr_bool("training"))
    fail("batch_norm in inference mode has no gradient; build the net for training");
  Value* dy = call.output_grads[0];
  if (dy == nullptr) return {nullptr, nullptr, nullptr, nullptr, nullptr};
  Node* grad = call.graph.add_node("batch_norm_grad", {dy, n.input(0), n.input(1), n.output(1), n.output(2)},
                                   {{"eps", n.attrs().at("eps")}, {"sync", n.attrs().at("sync")}});
  return {grad->output(0), grad->output(1), grad->output(2), nullptr, nullptr};
}

// (dy, x, gamma, saved mean, saved var[, beta]) -> dx, dgamma, dbeta; with relu, beta recomputes the mask.
std::vector<TensorType> infer_batch_norm_grad(const OpCall& call) {
  expect_same_type(call.inputs[0], call.inputs[1], "output gradient and input");
  const TensorType channel = channel_type(call.inputs[1]);
  expect_channel_inputs(call, channel, {2, 3, 4}, {"gamma", "mean", "var"});
  expect_relu_beta(call, 5);
  return {call.inputs[1], channel, channel};
}

// Examples' inputs: x and the four channel vectors, the running variance positive.
std::vector<ExampleInput> norm_inputs(Shape x) {
  const int64_t c = x[1];
  return {f32(std::move(x)), f32({c}), f32({c}), f32({c}), f32({c}, Fill::kPositive)};
}

}  // namespace

void add_norm_ops(OpList& ops) {
  ops.push_back({"batch_norm",
                 5,
                 5,
                 {kEps, kMomentum, kTraining, kRelu, kSync},
                 infer_batch_norm,
                 grad_batch_norm,
                 {},
                 "batch normalisation of x by (gamma, beta, running mean, running var), then relu",
                 {
                     {norm_inputs({2, 3, 5, 5}), {{"momentum", 0.2}}},
                     {norm_inputs({2, 3, 5, 5}), {{"training", false}}, false},
                     {norm_inputs({1, 4, 3, 3})},
                     {norm_inputs({6, 5})},
                     {norm_inputs({6, 5}), {{"training", false}}, false},
                     {norm_inputs({2, 3, 5, 5}), {{"relu", true}}},
                     {norm_inputs({2, 3, 5, 5}), {{"training", false}, {"relu", true}}},
                 }});
  ops.push_back(
      {"batch_norm_grad",
       5,
       6,
       {kEps, kRelu, kSync},
       infer_batch_norm_grad,
       nullptr,
       {.fused_inputs = 1},
       "batch_norm's backward: (dy, x, gamma, saved mean, saved var[, beta]) -> dx, dgamma, dbeta; "
       "with relu, dy is the relu output's gradient",
       {
           {{f32({2, 3, 5, 5}), f32({2, 3, 5, 5}), f32({3}), f32({3}), f32({3}, Fill::kPositive)}},
           {{f32({6, 5}), f32({6, 5}), f32({5}), f32({5}), f32({5}, Fill::kPositive)}, {{"eps", 1e-3}}},
           {{f32({2, 3, 5, 5}), f32({2, 3, 5, 5}), f32({3}), f32({3}), f32({3}, Fill::kPositive), f32({3})},
            {{"relu", true}}},
       }});
}

}  // namespace stratum::ops
