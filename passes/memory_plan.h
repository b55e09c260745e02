// A liveness-based memory planner: every node output gets a byte offset in one arena, in the graph's node
// order. Values whose lifetimes are disjoint share bytes; an in-place op's output takes its input's bytes.
// Leaves (inputs, params, state) live outside the arena and are not planned, nor are the outputs of the
// constant nodes (Graph::constant_nodes), which an executor computes once and keeps like params.
#pragma once

#include <cstdint>
#include <iostream>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "ir/graph.h"
#include "passes/pass.h"

namespace stratum {

struct MemoryPlan {
  std::unordered_map<const Value*, int64_t> offset;            // for every node output, 64-byte aligned
  std::vector<std::pair<const Value*, const Value*>> inplace;  // (output, input) pairs sharing bytes
  int64_t peak_bytes = 0;                                      // the arena's size, 64-byte aligned
  int64_t total_bytes = 0;                                     // every planned value's bytes, no reuse
};

// A value lives from its producer to its last user; graph outputs and update values live to the end.
// Buffers are placed by place_buffers (backends/arena_plan.h), the placement the plugins' arenas use, and
// peak_bytes is its block size. Output 0 of an op with traits.inplace takes input 0's buffer when that input
// is planned, dies at this node (so is no graph output or update value) and has the same size.
MemoryPlan plan_memory(const Graph& graph);

// Checks a plan independently of the planner: recomputes lifetimes, and throws Error naming the values
// when two live at once overlap (unless they are a legal in-place pair), when a node output lacks an
// offset, or when a value does not fit in peak_bytes.
void check_plan(const Graph& graph, const MemoryPlan& plan);

// "graph main: peak 1.2 MiB of 3.4 MiB without reuse (−65%), 3 of 14 values in place"
std::string plan_report(const Graph& graph, const MemoryPlan& plan);

// Plans, checks the plan and writes its report; leaves the graph as it is.
class MemoryPlanPass : public Pass {
 public:
  explicit MemoryPlanPass(std::ostream& out = std::cerr) : out_(out) {}
  std::string_view name() const override { return "plan"; }
  bool run(Graph& graph) override;

 private:
  std::ostream& out_;
};

// Registered as "plan"; takes no options and reports to std::cerr.
PassFactory plan_pass_factory();

}  // namespace stratum
