// Runs a graph node by node on the reference kernels: the oracle other backends are compared with.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "backends/tensor.h"
#include "ir/graph.h"

namespace stratum {

// Param and state tensors by value name.
using Store = std::map<std::string, Tensor>;

// Initialises every param and state of the graph from its Init (zeros, ones, uniform(bound), xavier_uniform:
// bound = sqrt(6/(fan_in+fan_out)), fan_in = shape[1]·prod(shape[2:]), fan_out = shape[0]·prod(shape[2:])),
// from one std::mt19937_64 seeded with `seed`, in declaration order.
Store init_store(const Graph& graph, uint64_t seed);

// Keeps a reference to the graph, which must outlive it; the graph may change between runs.
class Interpreter {
 public:
  explicit Interpreter(const Graph& graph) : graph_(graph) {}

  // Runs every node in order. `feeds` gives each graph input by name (missing or wrong type: Error naming
  // it); params and state come from `store` (likewise). Afterwards applies the graph's updates to `store`.
  // A node whose op has no reference kernel is an Error naming the op.
  void run(const std::map<std::string, Tensor>& feeds, Store& store);

  // Any value (leaf or computed) of the last run; Error if there is none.
  const Tensor& value(const Value* v) const;
  // The graph outputs of the last run, in order.
  std::vector<Tensor> outputs() const;

 private:
  void bind_leaves(const std::map<std::string, Tensor>& feeds, const Store& store);
  void run_node(const Node& node);

  const Graph& graph_;
  std::unordered_map<const Value*, Tensor> values_;
};

}  // namespace stratum
