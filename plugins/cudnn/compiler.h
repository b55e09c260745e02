// Compiling a subgraph into a Program: each node becomes launches (cuDNN and cuBLAS calls, kernels of
// kernels.h) whose descriptors, algorithms and memory are all decided at compile time, so that a run only
// enqueues them on the stream; and from the second run on, replays them as one CUDA graph (unless
// STRATUM_CUDNN_GRAPHS=0), so that small nets are not bound by launch overhead.
//
// Layout: every value is dense row-major (logical NCHW), as args are, so no value is ever transposed. NCHW
// is a default pending measurement on the device: NHWC would let cuDNN skip its internal transposes for
// tensor-core convolutions, at the price of converting at every arg.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "backends/plugin.h"
#include "backends/subgraph.h"
#include "ir/graph.h"
#include "plugins/cudnn/arena.h"
#include "plugins/cudnn/device.h"

namespace stratum::cudnn {

// Where a tensor's bytes are: arg `arg` (given at each run) or arena buffer `buffer`.
struct Ref {
  int arg = -1;
  int buffer = -1;
  explicit operator bool() const { return arg >= 0 || buffer >= 0; }  // Ref{} is none
};

// What a launch sees when it runs: the device, and the address of every Ref.
struct RunContext {
  const Device& device;
  void* const* args;
  const Arena& arena;

  template <typename T = float>
  T* at(Ref ref) const {
    if (!ref) return nullptr;
    return reinterpret_cast<T*>(ref.arg >= 0 ? static_cast<char*>(args[ref.arg]) : arena.address(ref.buffer));
  }
  cudaStream_t stream() const { return device.stream; }
};

using Launch = std::function<void(const RunContext&)>;

// A compiled subgraph.
class Program {
 public:
  Program() = default;
  Program(const Program&) = delete;
  Program& operator=(const Program&) = delete;
  ~Program();

  // args[i] is the memory of the subgraph's args[i]; returns when the work is done. Throws Error naming
  // the node that failed.
  void run(void* const* args);
  // Milliseconds each node took in the last run; zeros unless it was timed. Asking turns timing on: later
  // runs are enqueued node by node between events instead of replayed as a graph.
  const std::vector<double>& node_times();
  size_t arena_bytes() const { return arena_.bytes(); }

 private:
  friend class Compiler;
  struct NodeLaunches {
    std::string label;
    std::vector<Launch> launches;
  };

  void enqueue(const RunContext& context, bool timed);
  // Replays the graph captured for these args, capturing it first; false where capture failed (then
  // nothing ran, and later runs do not try again).
  bool replay(const RunContext& context);
  void capture(const RunContext& context, const std::vector<void*>& args);

  Arena arena_;
  std::vector<NodeLaunches> nodes_;
  size_t n_args_ = 0;
  int runs_ = 0;
  bool timing_ = false, capturable_ = true, last_run_timed_ = false;
  const stratum_communicator* waits_with_ = nullptr;  // Compiler::wait_with
  cudaGraphExec_t graph_ = nullptr;
  std::vector<void*> graph_args_;  // the args graph_ was captured with
  std::vector<cudaEvent_t> events_;
  std::vector<double> times_;
};

// Builds a Program. The op compilers (ops.h) drive it: they read their inputs' memory, declare their
// outputs' and add launches, which run in the order they are added.
class Compiler {
 public:
  // Throws Error naming the node that could not be compiled. The plugin keeps nothing derived from an input
  // across runs (its tensors are the IR's plain layout), so which inputs are constant does not matter.
  static std::unique_ptr<Program> compile(const stratum_subgraph& subgraph, const uint8_t* constant);

  const Graph& graph() const { return *rebuilt_.graph; }

  Ref input(const Value* value) const;
  // The memory the node writes `value` into: its arg, or a new arena buffer.
  Ref output(const Value* value);
  // `value` is the bytes of `ref` (a reshape, an identity); copied out when `value` is an output arg.
  void alias(const Value* value, Ref ref);
  // Memory that is no value: a temporary, a workspace.
  Ref buffer(size_t bytes);

  // A launch of the current node; `memory` is all it reads or writes, from which the arena plans lifetimes.
  void add(Launch launch, const std::vector<Ref>& memory);
  // A copy of `bytes` from one Ref to another.
  void copy(Ref from, Ref to, size_t bytes);
  // The program runs collectives through `communicator`: each run waits for its stream through it (with its
  // deadline), eagerly (no CUDA graph).
  void wait_with(const stratum_communicator* communicator);

 private:
  Compiler(const stratum_subgraph& subgraph, Program& program);
  void compile_node(const Node& node);

  Program& program_;
  RebuiltGraph rebuilt_;
  std::unordered_map<const Value*, int> output_args_;
  std::unordered_map<const Value*, Ref> values_;
  int launches_ = 0;
};

}  // namespace stratum::cudnn
