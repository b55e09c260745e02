// An update op's attributes (sgd_update, momentum_update, adam_update) as UpdateParams, and where its
// per-step scalars are among its inputs, for the plugins' kernels.
#pragma once

#include <optional>

#include "backends/optimizer_math.h"
#include "ir/graph.h"

namespace stratum {

// Every attribute the node's op has; the per-step values come from its inputs (UpdateParams::at_step).
UpdateParams update_params(const Node& node);

// The inputs holding the learning rate, the gradients' scale (global-norm clipping; none without) and
// Adam's step count (none for SGD).
struct StepInputs {
  size_t lr;
  std::optional<size_t> scale, t;
};
StepInputs step_inputs(const Node& node);

}  // namespace stratum
