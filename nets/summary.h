// The book's shape walk-through for any graph: one line per forward node with the layer it belongs to,
// its output shape and the parameters it owns.
#pragma once

#include <string>

#include "ir/graph.h"

namespace stratum {

// Nodes up to the loss; the layer is the name of the first param a node reads, less its last part
// (conv1.weight -> conv1). Ends with the total parameter count.
std::string layer_summary(const Graph& graph);

}  // namespace stratum
