#include "tools/layer_groups.h"

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
  for (bool backward : {false, true}) {
    for (const auto& node : graph.nodes()) {
      if (node->backward() == backward) group(*node);
    }
  }
  return groups;
}

}  // namespace stratum
