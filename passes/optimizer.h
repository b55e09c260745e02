// The optimizer step autodiff adds to the backward (passes/autodiff.h): the update ops of
// ir/ops/optimizer.cc, their state and the learning rate input.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "ir/op_attrs.h"

namespace stratum {

// How an error names a setting ("optimizer" for the kind, "momentum", "nesterov", "weight_decay", "beta1",
// "beta2", "eps", "clip_norm"); `train` names its flags instead.
using SettingName = std::function<std::string(const std::string& setting)>;

// The node after the last that computes one of `inputs` (null: the end): where a node reading them can
// run as soon as they are ready.
const Node* after_producers(const Graph& graph, const std::vector<Value*>& inputs);

// Throws Error naming the setting (as `name` spells it, else as above) when one is out of range.
void check_optimizer(const OptimizerAttrs& optimizer, const SettingName& name = {});

// Adds the learning rate, an input %lr : f32[] fed each step, and the update of each param from its
// gradient as the param's update: sgd_update, momentum_update (with state %<param>.momentum) or adam_update
// (state %<param>.adam_m, %<param>.adam_v and the step count %adam.step), after global_norm_scale when
// clip_norm is set. Each update op comes right after the node computing its gradient, so that the gradient
// dies there (with clip_norm, after global_norm_scale, which reads every gradient). State starts at zero.
// Error when the graph already has a value named as one of these.
void add_optimizer_step(Graph& graph, const std::vector<Value*>& params, const std::vector<Value*>& grads,
                        const OptimizerAttrs& optimizer);

}  // namespace stratum
