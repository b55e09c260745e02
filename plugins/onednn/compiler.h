// Compiling a subgraph into a Program: each node becomes oneDNN primitives (or small OpenMP loops) whose
// descriptors, layouts and memory are all decided at compile time, so that a run only executes.
//
// Layouts: a value lives in the layout its producer wrote (a convolution's blocked nChw16c, say). A consumer
// asks for it in the layout its own primitive wants and gets the value itself or a reorder of it, made once
// per (value, layout) and shared by every later consumer. Args (the subgraph's edges) are dense row-major:
// input args are read in place or reordered on first use, and output args are written in place when the
// producer's layout is plain, else reordered out right after the producing node.
#pragma once

#include <dnnl.hpp>

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "backends/plugin.h"
#include "backends/subgraph.h"
#include "ir/graph.h"
#include "plugins/onednn/arena.h"

namespace stratum::onednn {

using Args = std::unordered_map<int, dnnl::memory>;

const dnnl::engine& cpu_engine();

// Shapes as oneDNN dims; a scalar is {1}.
dnnl::memory::dims dims_of(const Shape& shape);
// The IR's dtypes as oneDNN's (i32 as s32).
dnnl::memory::data_type data_type_of(DType dtype);
// Dense row-major: the layout of args and of the IR.
dnnl::memory::desc plain_desc(const TensorType& type);
dnnl::memory::desc plain_desc(const dnnl::memory::dims& dims,
                              dnnl::memory::data_type type = dnnl::memory::data_type::f32);
// The layout the primitive prefers.
dnnl::memory::desc any_desc(const dnnl::memory::dims& dims,
                            dnnl::memory::data_type type = dnnl::memory::data_type::f32);
// `desc`'s layout with elements of `type`.
dnnl::memory::desc with_data_type(const dnnl::memory::desc& desc, dnnl::memory::data_type type);
// Each dim's stride in elements, where `desc` places an element at the sum of its indices times these:
// plain and strided layouts, and blocked ones whose one block spans its whole dim (nChw16c of 16 channels is
// nhwc); 0 for dims of size 1; empty for any other layout.
dnnl::memory::dims element_strides(const dnnl::memory::desc& desc);
// Whether oneDNN runs `isa`'s kernels on this CPU (avx512_core_bf16: bf16 natively; avx512_core_amx: AMX).
bool cpu_has(dnnl::cpu_isa isa);

// The memory's elements, for loops over plain layouts.
template <typename T>
T* data(const dnnl::memory& memory) {
  return static_cast<T*>(memory.get_data_handle());
}

// A compiled subgraph.
class Program {
 public:
  // args[i] is the memory of the subgraph's args[i]. Throws Error naming the node that failed.
  void run(void* const* args);
  // The constant inputs hold new contents: the next run derives from them again.
  void refresh_constants() { constants_stale_ = true; }
  // Milliseconds each node took in the last run, in node order.
  const std::vector<double>& node_times() const { return times_; }
  size_t arena_bytes() const { return arena_.bytes(); }

 private:
  friend class Compiler;
  // One call of a run: a primitive executed with its arguments, or a host loop. A constant one (a reorder of
  // a constant input) runs only in the first run after the constants change.
  struct Call {
    dnnl::primitive primitive;
    Args args;
    std::function<void()> loop;
    bool constant = false;
  };
  struct NodeCalls {
    std::string label;
    std::vector<Call> calls;
  };
  struct ArgMemory {
    dnnl::memory memory;
    int arg;
    size_t offset;  // bytes into the arg
  };

  dnnl::stream stream_{cpu_engine()};
  Arena arena_;
  std::vector<NodeCalls> nodes_;
  std::vector<ArgMemory> arg_memories_;  // given args[arg] as their data at each run
  std::vector<double> times_;
  bool constants_stale_ = true;
};

// Builds a Program. The op compilers (ops.h) drive it: they take their inputs in the layouts their
// primitives want, declare their outputs and add calls, which run in the order they are added.
class Compiler {
 public:
  // Throws Error naming the node that could not be compiled. `constant` (null: none) flags the inputs that
  // hold the same contents from run to run until Program::refresh_constants (plugin.h's compile_constant):
  // conversions of them run once.
  static std::unique_ptr<Program> compile(const stratum_subgraph& subgraph, const uint8_t* constant);

  const dnnl::engine& engine() const { return cpu_engine(); }
  // Every primitive descriptor is made with these: scratchpads are ours (run must not allocate), and the
  // post-ops of a fusion.
  dnnl::primitive_attr attr(const dnnl::post_ops& post_ops = {}) const;
  const Graph& graph() const { return *rebuilt_.graph; }

  // A value the node reads: in the layout its producer wrote, or in `desc`.
  dnnl::memory input(const Value* value) const;
  dnnl::memory input(const Value* value, const dnnl::memory::desc& desc);
  dnnl::memory plain_input(const Value* value);

  // Memory in `desc` for the node's calls to write `value` into.
  dnnl::memory output(const Value* value, const dnnl::memory::desc& desc);
  dnnl::memory plain_output(const Value* value);
  // `value` is `memory`, not a copy of it: a reshape, an identity.
  void alias(const Value* value, const dnnl::memory& memory);
  // `value` is written over `memory`, the memory of an input that dies at the node: the copies made of it
  // in other layouts, or that it was made as, no longer hold what it holds.
  void write_over(const Value* value, const dnnl::memory& memory);

  // Memory that is no value (a workspace, a temporary), alive from the first call that touches it to the
  // last.
  dnnl::memory buffer(const dnnl::memory::desc& desc);
  // The same bytes through another desc: a reshape or a sub-memory.
  dnnl::memory view(const dnnl::memory& memory, const dnnl::memory::desc& desc);
  // Bytes of `memory` from `offset` on, through `desc`: a slice that is whole in memory.
  dnnl::memory view_from(const dnnl::memory& memory, size_t offset, const dnnl::memory::desc& desc);
  // `memory` in layout `desc`: itself, or a reorder of it, made once.
  dnnl::memory convert(const dnnl::memory& memory, const dnnl::memory::desc& desc);

  // Calls of the current node. `memories` are those a loop reads or writes.
  void add(const dnnl::primitive_desc_base& pd, Args args);
  void add_loop(std::function<void()> loop, const std::vector<dnnl::memory>& memories);
  void reorder(const dnnl::memory& from, const dnnl::memory& to);

  // Fusion: `node`, later in the subgraph, is computed by the current node's calls; it gets none itself.
  void claim(const Node* node) { claimed_.insert(node); }
  bool claimed(const Node* node) const { return claimed_.count(node) != 0; }
  // The one node that reads `value`, when it is an unclaimed `op` and the caller does not read the value;
  // else null.
  const Node* sole_reader(const Value* value, std::string_view op) const;
  // Whether anything reads `value`: a later node, or the caller.
  bool needed(const Value* value) const { return !value->users().empty() || output_args_.count(value); }
  // Whether `node` may write over `memory`, which holds its input `value`: the memory is no arg's (the
  // caller's) but an arena buffer, and every value in that buffer (`value`, and the views and identities
  // that alias it) is read by no later node and not by the caller.
  bool may_write_over(const Value* value, const dnnl::memory& memory, const Node& node) const;

  // The workspace a forward node leaves for its backward node; a null memory when it left none.
  void set_workspace(const Node* forward, const dnnl::memory& workspace) { workspaces_[forward] = workspace; }
  dnnl::memory workspace(const Node* forward) const;

 private:
  // Where a memory's bytes are: an arg's (given at each run) or an arena buffer's.
  struct Place {
    int arg = -1;
    int buffer = -1;
    size_t offset = 0;  // bytes into the arg or buffer
  };
  // A memory made from another: a view or a reorder of it.
  struct Derived {
    dnnl_memory_t source;
    dnnl::memory::desc desc;
    bool is_view;
    dnnl::memory memory;
  };

  Compiler(const stratum_subgraph& subgraph, const uint8_t* constant, Program& program);
  void compile_node(const Node& node);
  void finish();
  dnnl::memory make(const dnnl::memory::desc& desc, Place place);
  const dnnl::memory* find_derived(const dnnl::memory& source, const dnnl::memory::desc& desc,
                                   bool is_view) const;
  void add_call(Program::Call call, const std::vector<dnnl::memory>& memories);
  void copy_out_pending();
  bool dies_at(const Value* value, const Node& node) const;

  Program& program_;
  RebuiltGraph rebuilt_;
  std::unordered_map<const Value*, int> output_args_;
  std::unordered_map<const Value*, dnnl::memory> values_;  // in the layout their producer wrote
  std::vector<const Value*> pending_;  // output args of the current node still to copy out
  std::unordered_map<dnnl_memory_t, Place> places_;
  std::vector<std::pair<dnnl::memory, Place>> buffer_memories_;  // given their buffer's address when planned
  std::vector<Derived> derived_;
  std::unordered_set<const Node*> claimed_;
  std::unordered_set<dnnl_memory_t> constant_;  // constant inputs' memories, their views and conversions
  std::unordered_map<const Node*, dnnl::memory> workspaces_;
  int calls_ = 0;
};

}  // namespace stratum::onednn
