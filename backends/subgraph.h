// Between the IR and the plugin ABI: describes part of an ir::Graph as the C structs of backends/plugin.h,
// and rebuilds an ir::Graph from such a description (for plugins written in C++ against the IR).
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "backends/plugin.h"
#include "ir/graph.h"

namespace stratum {

stratum_tensor_desc to_desc(const TensorType& type);
TensorType from_desc(const stratum_tensor_desc& desc);

// The C description of some nodes of a graph, owning every array and string the structs point into.
// Args: first the values the nodes read but do not produce, in order of first use; then the values they
// produce for which `needed_outside` is true, in order of definition.
class SubgraphDesc {
 public:
  SubgraphDesc(const std::vector<const Node*>& nodes,
               const std::function<bool(const Value*)>& needed_outside);
  SubgraphDesc(const SubgraphDesc&) = delete;
  SubgraphDesc& operator=(const SubgraphDesc&) = delete;

  const stratum_subgraph& subgraph() const { return subgraph_; }
  const stratum_node& node(size_t i) const { return nodes_[i]; }
  const stratum_tensor_desc* values() const { return descs_.data(); }
  int32_t n_values() const { return subgraph_.n_values; }
  // The graph values bound to args, in the order of subgraph().args.
  const std::vector<const Value*>& args() const { return args_; }

 private:
  int32_t id(const Value* value);
  stratum_attr attr(const std::string& name, const Attr& value);

  std::unordered_map<const Value*, int32_t> ids_;
  std::vector<stratum_tensor_desc> descs_;
  std::vector<stratum_node> nodes_;
  std::deque<std::vector<int32_t>> id_lists_;  // deques: what the structs point into never moves
  std::deque<std::vector<stratum_attr>> attr_lists_;
  std::deque<Ints> ints_;
  std::deque<std::string> strings_;
  std::vector<int32_t> arg_ids_;
  std::vector<const Value*> args_;
  stratum_subgraph subgraph_{};
};

// Whether `plugin` runs node i of `desc`: it lists the node's op in its op_schemas (the loader checked their
// schemas) and its supports() says yes.
bool plugin_supports(const stratum_plugin& plugin, const SubgraphDesc& desc, size_t i);

// An ir::Graph that computes what the subgraph computes: its input args become graph inputs %arg0, %arg1,
// ..., its nodes are added again (so shape inference checks them) and its output args become graph
// outputs. `values[i]` is the graph's value for subgraph value i. Throws Error naming a bad node.
struct RebuiltGraph {
  std::unique_ptr<Graph> graph;
  std::vector<Value*> values;
};
RebuiltGraph rebuild_graph(const stratum_subgraph& subgraph);

}  // namespace stratum
