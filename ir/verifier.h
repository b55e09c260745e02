// Checks a graph's invariants; throws Error naming the node and what is wrong.
#pragma once

#include "ir/graph.h"

namespace stratum {

// Every node's arity, attributes and output types agree with its op (shape inference is run again); every
// input is defined before it is used; use lists are consistent; outputs and updates name defined values,
// each param or state is updated at most once, with a value of its own type.
void verify_graph(const Graph& graph);

}  // namespace stratum
