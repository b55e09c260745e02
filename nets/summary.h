// The book's shape walk-through for any graph: one line per forward node with the layer it belongs to,
// its output shape and the parameters it owns.
#pragma once

#include <string>

#include "ir/graph.h"

namespace stratum {

// Nodes up to the loss; a node's layers are the names of the params it reads, less their last part
// (conv1.weight -> conv1), joined by '+' for a fused node ("conv1+bn1", counting a batch norm folded into
// the conv's weights); a fused op shows what it took in ("conv2d+residual+relu"). Ends with the total
// parameter count.
std::string layer_summary(const Graph& graph);

}  // namespace stratum
