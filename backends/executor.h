// Runs a graph on a chosen plugin, partition after partition. The partitioner gives each node to the plugin
// when it lists the node's op and supports the node (plugin_supports), and to the reference backend otherwise
// (said once per op kind); each maximal run of consecutive nodes on one backend is a partition, compiled
// once. Values cross between partitions through buffers allocated once, with copies where they change
// device. run() allocates nothing. The graph's constant nodes (Graph::constant_nodes) form partitions of
// their own, run first and only when the state was loaded since. A training step commits its updates only
// when they and the graph's outputs are finite, so params and state never hold a value of a training step
// that went wrong.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "backends/plugin.h"
#include "backends/reference/interpreter.h"
#include "backends/subgraph.h"
#include "backends/tensor.h"
#include "ir/error.h"
#include "ir/graph.h"

namespace stratum {

struct Partition {
  const stratum_plugin* plugin;
  std::vector<const Node*> nodes;
};

// Whether `plugin` runs `node` itself (the reference backend runs what it does not): plugin_supports.
bool plugin_runs(const stratum_plugin& plugin, const Node& node);

// Each node to `plugin` if it supports it, else to the reference backend.
std::vector<Partition> partition_nodes(const std::vector<const Node*>& nodes, const stratum_plugin& plugin);
std::vector<Partition> partition_graph(const Graph& graph, const stratum_plugin& plugin);

// Thrown by Executor::run when a training step's update or output is not finite; the state is then as before
// the run.
class NonFiniteStep : public Error {
 public:
  NonFiniteStep(const std::string& message, const Value* value) : Error(message), value_(value) {}
  const Value* value() const { return value_; }  // the first non-finite update target or output

 private:
  const Value* value_;
};

class Executor {
 public:
  // Partitions and compiles `graph` (which must outlive the executor) and allocates every buffer. With
  // `reads_state_of` (which must outlive it), the params and state that executor holds under the same name
  // and type, in the same place, are read from its buffers, not copied: an evaluation graph reading a
  // training step's weights as they are at each run. They must be no update's target here.
  Executor(const Graph& graph, const stratum_plugin& plugin, const Executor* reads_state_of = nullptr);
  ~Executor();
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  // Params and state: copied in before the first run (Error naming any that is missing or mistyped; until
  // a load_state succeeds, run is an Error), but for those read from another executor, and out whenever
  // wanted (for checkpoints and tests).
  void load_state(const Store& store);
  Store save_state() const;
  // save_state into the tensors `store` already holds where their types match: no allocation.
  void save_state(Store& store) const;

  // One run: copies each graph input from `feeds` (by name), runs every partition, applies the updates,
  // all at once (an update may read another's target). When the graph has updates, they are applied only
  // if every f32 update value and graph output is finite: else NonFiniteStep, and the state is unchanged,
  // as it is when a plugin fails (Error naming the plugin and its nodes).
  void run(const std::map<std::string, Tensor>& feeds);
  // The graph outputs of the last run, in order.
  std::vector<Tensor> outputs() const;

  // The constant nodes' partitions first (prologue_size() of them), then the rest.
  const std::vector<Partition>& partitions() const { return partitions_; }
  size_t prologue_size() const { return prologue_partitions_; }
  // Milliseconds per node in the last run, for partitions whose plugin reports them; 0 for the constant
  // nodes when it did not run them.
  std::vector<std::pair<const Node*, double>> node_times() const;
  // Per plugin that reports them (stratum_plugin::arena_bytes), by name: the bytes its programs allocated
  // for themselves at compile. Not counted: the buffers of values between partitions, which the executor
  // allocates.
  std::map<std::string, size_t> arena_bytes() const;

 private:
  struct Buffer;
  struct Task;
  Buffer& buffer(const Value* value, const stratum_plugin* domain);  // the value's, made once or shared
  const Buffer* shared_leaf(const Value* leaf, const stratum_plugin* domain) const;  // reads_state_of's
  Buffer& allocate(const Value* value, const stratum_plugin* domain);                // a new one
  const Buffer& home(const Value* value) const;
  void plan_partition(const Partition& partition, const std::unordered_set<const Value*>& constant);
  void compile(Task& task, const SubgraphDesc& desc, const std::unordered_set<const Value*>& constant);
  void copy(const Buffer& from, const Buffer& to) const;
  void plan_updates();
  void check_finite() const;

  const Graph& graph_;
  const Executor* reads_state_of_;
  std::unordered_set<const Value*> shared_;  // leaves read from reads_state_of_'s buffers
  std::vector<Partition> partitions_;
  size_t prologue_partitions_ = 0, prologue_tasks_ = 0;
  bool state_loaded_ = true;   // since the constant nodes last ran
  bool state_ready_;           // the last load_state succeeded (or there is no param or state)
  bool ran_prologue_ = false;  // in the last run
  std::vector<std::unique_ptr<SubgraphDesc>> descs_;
  std::vector<std::unique_ptr<Buffer>> buffers_;
  std::map<std::pair<const Value*, const stratum_plugin*>, Buffer*> by_value_;
  std::unordered_map<const Value*, Buffer*> home_;  // where a value is written: its producer's domain
  std::vector<Task> tasks_;                         // what a run does, in order
  std::vector<std::pair<const Buffer*, const Buffer*>> staged_;   // new values that are targets, copied first
  std::vector<std::pair<const Buffer*, const Buffer*>> updates_;  // (new value, param or state)
  mutable std::vector<char> staging_;  // host bytes for copies between two devices and finite checks
};

}  // namespace stratum
