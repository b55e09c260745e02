// Which layer of the net each node of a graph belongs to, for per-layer tables: forward or training step,
// fused or not. A node's layer is its origin (Node::origin), which the net's builder records (nets/layers.h)
// and autodiff and fusion keep: a backward node has the origin of the forward node it differentiates, a
// fused node its anchor's. Nodes without one (graphs not built by build_net) form the layer "(no origin)".
// Tables split a layer into forward and backward by Node::backward, which autodiff marks.
#pragma once

#include <string>
#include <unordered_map>
#include <vector>

#include "ir/graph.h"

namespace stratum {

struct LayerGroups {
  // In the order of their first forward node; then those with backward nodes only (a layer whose forward
  // fusion put into another's node), in the order of their first backward node.
  std::vector<std::string> layers;
  std::unordered_map<const Node*, size_t> layer_of;  // every node: an index into `layers`
};

LayerGroups group_layers(const Graph& graph);

}  // namespace stratum
