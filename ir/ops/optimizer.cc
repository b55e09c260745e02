// The optimizers' update ops, which autodiff emits after the backward (passes/autodiff.h), and global-norm
// clipping's scale. The learning rate, the gradients' scale and Adam's step count are f32[] inputs fed or
// computed each step, not attributes, so that a schedule changes them without rebuilding the graph. The
// maths is backends/optimizer_math.h's.
#include "ir/op_attrs.h"
#include "ir/ops/common.h"

namespace stratum::ops {

namespace {

const TensorType kScalar{DType::f32, {}};

// Inputs `like` have w's type; `scalars` are f32[]; an optional trailing input is the gradients' scale.
void check_update(const OpCall& call, std::initializer_list<int> like, std::initializer_list<int> scalars) {
  expect_dtype(call.inputs[0], DType::f32, "parameter");
  for (int i : like) {
    if (call.inputs[i] != call.inputs[0])
      fail("input {} must be the parameter's type {}, got {}", i, type_str(call.inputs[0]),
           type_str(call.inputs[i]));
  }
  std::vector<int> all = scalars;
  if (call.inputs.size() > like.size() + scalars.size() + 1) all.push_back(int(call.inputs.size()) - 1);
  for (int i : all) {
    if (call.inputs[i] != kScalar) fail("input {} must be f32[], got {}", i, type_str(call.inputs[i]));
  }
  if (call.attr_float("weight_decay") < 0)
    fail("weight_decay must be at least 0, got {}", call.attr_float("weight_decay"));
}

void expect_fraction(const OpCall& call, const char* attr) {
  const double value = call.attr_float(attr);
  if (value < 0 || value >= 1) fail("{} must be in [0,1), got {}", attr, value);
}

// (w, dw, lr[, scale]) -> w'
std::vector<TensorType> infer_sgd_update(const OpCall& call) {
  check_update(call, {1}, {2});
  return {call.inputs[0]};
}

// (w, dw, v, lr[, scale]) -> w', v'
std::vector<TensorType> infer_momentum_update(const OpCall& call) {
  check_update(call, {1, 2}, {3});
  expect_fraction(call, "momentum");
  return {call.inputs[0], call.inputs[0]};
}

// (w, dw, m, v, t, lr[, scale]) -> w', m', v'
std::vector<TensorType> infer_adam_update(const OpCall& call) {
  check_update(call, {1, 2, 3}, {4, 5});
  expect_fraction(call, "beta1");
  expect_fraction(call, "beta2");
  if (!(call.attr_float("eps") > 0)) fail("eps must be positive, got {}", call.attr_float("eps"));
  return {call.inputs[0], call.inputs[0], call.inputs[0]};
}

// (g_1, ..., g_k) -> min(1, max_norm / (‖(g_1, ..., g_k)‖ + 1e-6)) f32[]
std::vector<TensorType> infer_global_norm_scale(const OpCall& call) {
  for (const TensorType& g : call.inputs) expect_dtype(g, DType::f32, "every gradient");
  if (!(call.attr_float("max_norm") > 0))
    fail("max_norm must be positive, got {}", call.attr_float("max_norm"));
  return {kScalar};
}

const OptimizerAttrs kDefaults;
const AttrSpec kWeightDecay{"weight_decay", AttrKind::kFloat, kDefaults.weight_decay};
const AttrSpec kDecoupled{"decoupled", AttrKind::kBool, false};
const OpTraits kUpdate{.inplace = true};

// Examples: a [6,1,5,5] weight and its gradient, then `states` more of its type (positive: Adam's second
// moment is never negative), then `scalars` f32[] (positive: a step count, a learning rate, a scale).
std::vector<ExampleInput> update_inputs(int states, int scalars) {
  std::vector<ExampleInput> in = {f32({6, 1, 5, 5}), f32({6, 1, 5, 5})};
  for (int i = 0; i < states; ++i) in.push_back(f32({6, 1, 5, 5}, Fill::kPositive));
  for (int i = 0; i < scalars; ++i) in.push_back(f32({}, Fill::kPositive));
  return in;
}

}  // namespace

void add_optimizer_ops(OpList& ops) {
  ops.push_back({"sgd_update",
                 3,
                 4,
                 {kWeightDecay, kDecoupled},
                 infer_sgd_update,
                 nullptr,
                 kUpdate,
                 "SGD: (w, dw, lr[, scale]) -> w - lr·(scale·dw + weight_decay·w)",
                 {
                     {update_inputs(0, 1)},
                     {update_inputs(0, 2), {{"weight_decay", 0.01}}},
                     {update_inputs(0, 1), {{"weight_decay", 0.01}, {"decoupled", true}}},
                 }});
  ops.push_back({"momentum_update",
                 4,
                 5,
                 {{"momentum", AttrKind::kFloat, std::nullopt},
                  {"nesterov", AttrKind::kBool, kDefaults.nesterov},
                  kWeightDecay,
                  kDecoupled},
                 infer_momentum_update,
                 nullptr,
                 kUpdate,
                 "SGD with momentum: (w, dw, v, lr[, scale]) -> w', v' = momentum·v + g",
                 {
                     {update_inputs(1, 1), {{"momentum", 0.9}}},
                     {update_inputs(1, 2), {{"momentum", 0.9}, {"nesterov", true}, {"weight_decay", 0.01}}},
                     {update_inputs(1, 1), {{"momentum", 0.5}, {"weight_decay", 0.01}, {"decoupled", true}}},
                 }});
  ops.push_back({"adam_update",
                 6,
                 7,
                 {{"beta1", AttrKind::kFloat, kDefaults.beta1},
                  {"beta2", AttrKind::kFloat, kDefaults.beta2},
                  {"eps", AttrKind::kFloat, kDefaults.eps},
                  kWeightDecay,
                  kDecoupled},
                 infer_adam_update,
                 nullptr,
                 kUpdate,
                 "Adam: (w, dw, m, v, t, lr[, scale]) -> w', m', v', bias-corrected for step t",
                 {
                     {update_inputs(2, 2)},
                     {update_inputs(2, 3), {{"weight_decay", 0.01}}},
                     {update_inputs(2, 2), {{"beta1", 0.8}, {"weight_decay", 0.1}, {"decoupled", true}}},
                 }});
  ops.push_back({"global_norm_scale",
                 1,
                 -1,
                 {{"max_norm", AttrKind::kFloat, std::nullopt}},
                 infer_global_norm_scale,
                 nullptr,
                 {},
                 "global-norm clipping's scale: (g_1, ..., g_k) -> min(1, max_norm / ‖g‖)",
                 {
                     {{f32({6, 1, 5, 5}), f32({6}), f32({10, 7})}, {{"max_norm", 1.0}}},
                     {{f32({3, 4})}, {{"max_norm", 100.0}}},
                 }});
}

}  // namespace stratum::ops
