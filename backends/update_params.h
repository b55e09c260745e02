// An update op's attributes (sgd_update, momentum_update, adam_update) as UpdateParams, for host kernels.
#pragma once

#include "backends/optimizer_math.h"
#include "ir/graph.h"

namespace stratum {

// Every attribute the node's op has; the per-step values come from its inputs (UpdateParams::at_step).
UpdateParams update_params(const Node& node);

}  // namespace stratum
