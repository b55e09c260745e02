#include "tools/layer_groups.h"

#include <algorithm>

#include "passes/autodiff.h"

namespace stratum {

LayerGroups group_layers(const Graph& graph) {
  LayerGroups groups;
  std::unordered_map<std::string, size_t> index;
  auto group = [&](const Node& node) {
    const std::string layer = node.origin().empty() ? "(no origin)" : node.origin();
    auto [it, added] = index.emplace(layer, groups.layers.size());
    if (added) groups.layers.push_back(layer);
    groups.layer_of[&node] = it->second;
  };
  const auto& nodes = graph.nodes();
  const size_t first_backward = last_forward_index(graph) + 1;
  for (size_t i = 0; i < std::min(first_backward, nodes.size()); ++i) group(*nodes[i]);
  for (size_t i = first_backward; i < nodes.size(); ++i) {
    group(*nodes[i]);
    groups.backward.insert(nodes[i].get());
  }
  return groups;
}

}  // namespace stratum
