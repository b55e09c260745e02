// The text form of a graph: deterministic, and read back by parse_graph() to the same graph.
//
//   graph small {
//     input %x : f32[8,1,28,28]
//     param %conv.weight : f32[6,1,5,5] = xavier_uniform
//     %0 = conv2d(%x, %conv.weight) {padding=[2,2]} : f32[8,6,28,28] @conv
//     ...
//     %7 = sgd_update(%conv.weight, %6, %lr) : f32[6,1,5,5] @conv backward
//     update %conv.weight = %7
//     output %loss
//   }
//
// Attributes print in the op's declared order and only where they differ from the default. Unnamed values
// print as %0, %1, ... in order of definition. A node's origin, the layer it belongs to, follows '@' (none
// when it has none); a node of a training step's backward (Node::backward) ends its line with `backward`.
#pragma once

#include <string>
#include <unordered_map>

#include "ir/graph.h"

namespace stratum {

std::string print_graph(const Graph& graph);

// The printed name of every value ("x", "0", ...), as print_graph() writes them.
std::unordered_map<const Value*, std::string> printed_names(const Graph& graph);

}  // namespace stratum
