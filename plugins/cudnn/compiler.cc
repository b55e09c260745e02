#include "plugins/cudnn/compiler.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "ir/error.h"
#include "plugins/cudnn/ops.h"

namespace stratum::cudnn {

Program::~Program() {
  if (graph_ != nullptr) cudaGraphExecDestroy(graph_);
  for (cudaEvent_t event : events_) cudaEventDestroy(event);
}

void Program::run(void* const* args) {
  const RunContext context{device(), args, arena_};
  // The first run is eager: it warms up cuDNN and cuBLAS, whose first calls may allocate, which a capture
  // must not see.
  const bool replayed = runs_++ > 0 && !timing_ && capturable_ && replay(context);
  last_run_timed_ = !replayed && timing_;
  if (!replayed) enqueue(context, timing_);
  if (waits_with_ != nullptr && waits_with_->wait_stream(context.stream()) != 0)
    fail("{}: {}", waits_with_->name, waits_with_->last_error());
  check(cudaStreamSynchronize(context.stream()), "running the program");
  if (!replayed && !events_.empty()) {
    for (size_t n = 0; n < nodes_.size(); ++n) {
      float ms = 0;
      check(cudaEventElapsedTime(&ms, events_[n], events_[n + 1]), "cudaEventElapsedTime");
      times_[n] = ms;
    }
  }
}

const std::vector<double>& Program::node_times() {
  if (!last_run_timed_) std::fill(times_.begin(), times_.end(), 0.0);  // timing starts with the next run
  timing_ = true;
  return times_;
}

void Program::enqueue(const RunContext& context, bool timed) {
  if (timed && events_.empty()) {
    events_.resize(nodes_.size() + 1);
    for (cudaEvent_t& event : events_) check(cudaEventCreate(&event), "cudaEventCreate");
  }
  cudaGetLastError();  // an error left by an earlier failure is not this run's
  if (timed) check(cudaEventRecord(events_[0], context.stream()), "cudaEventRecord");
  for (size_t n = 0; n < nodes_.size(); ++n) {
    try {
      for (const Launch& launch : nodes_[n].launches) launch(context);
      check(cudaGetLastError(), "launching a kernel");
    } catch (const std::exception& e) {
      fail("{}: {}", nodes_[n].label, e.what());
    }
    if (timed) check(cudaEventRecord(events_[n + 1], context.stream()), "cudaEventRecord");
  }
}

bool Program::replay(const RunContext& context) {
  const std::vector<void*> args(context.args, context.args + n_args_);
  if (graph_ == nullptr || args != graph_args_) capture(context, args);
  if (graph_ == nullptr) return false;
  check(cudaGraphLaunch(graph_, context.stream()), "cudaGraphLaunch");
  return true;
}

// Captures one run's work as a CUDA graph, for these args. Where something in it cannot be captured,
// capturable_ turns false and the program stays eager.
void Program::capture(const RunContext& context, const std::vector<void*>& args) {
  if (graph_ != nullptr) cudaGraphExecDestroy(graph_), graph_ = nullptr;
  check(cudaStreamBeginCapture(context.stream(), cudaStreamCaptureModeThreadLocal), "cudaStreamBeginCapture");
  cudaGraph_t graph = nullptr;
  bool enqueued = true;
  try {
    enqueue(context, false);
  } catch (const std::exception&) {
    enqueued = false;  // the eager run that follows reports the error, if it is one outside capture too
  }
  const cudaError_t ended = cudaStreamEndCapture(context.stream(), &graph);
  if (enqueued && ended == cudaSuccess && cudaGraphInstantiate(&graph_, graph, 0) != cudaSuccess)
    graph_ = nullptr;
  if (graph != nullptr) cudaGraphDestroy(graph);
  cudaGetLastError();  // a failed capture leaves its error behind
  capturable_ = graph_ != nullptr;
  graph_args_ = args;
}

std::unique_ptr<Program> Compiler::compile(const stratum_subgraph& subgraph, const uint8_t*) {
  device();  // fails here, not in a launch, where there is no device
  auto program = std::make_unique<Program>();
  Compiler compiler(subgraph, *program);
  const auto& nodes = compiler.graph().nodes();
  for (size_t n = 0; n < nodes.size(); ++n) {
    program->nodes_.push_back({subgraph.nodes[n].label, {}});
    try {
      compiler.compile_node(*nodes[n]);
    } catch (const std::exception& e) {
      fail("{}: {}", subgraph.nodes[n].label, e.what());
    }
  }
  program->arena_.plan();
  program->times_.assign(nodes.size(), 0.0);
  program->n_args_ = subgraph.n_args;
  const char* graphs = std::getenv("STRATUM_CUDNN_GRAPHS");  // "0": every run eager, to compare
  program->capturable_ =
      (graphs == nullptr || std::strcmp(graphs, "0") != 0) && program->waits_with_ == nullptr;
  return program;
}

Compiler::Compiler(const stratum_subgraph& subgraph, Program& program)
    : program_(program), rebuilt_(rebuild_graph(subgraph)) {
  for (int32_t i = 0; i < subgraph.n_args; ++i) {
    const Value* value = rebuilt_.values.at(subgraph.args[i]);
    if (i < subgraph.n_inputs) {
      values_[value] = {i, -1};
    } else {
      output_args_[value] = i;
    }
  }
}

void Compiler::compile_node(const Node& node) {
  const OpCompiler compile = find_op_compiler(node.op_name());
  if (compile == nullptr) fail("the cuDNN plugin does not run {}", node.op_name());
  compile(node, *this);
}

Ref Compiler::input(const Value* value) const {
  auto it = values_.find(value);
  if (it == values_.end()) fail("internal error: an input is read before it is computed");
  return it->second;
}

Ref Compiler::output(const Value* value) {
  auto arg = output_args_.find(value);
  const Ref ref = arg != output_args_.end() ? Ref{arg->second, -1} : buffer(value->type().bytes());
  values_[value] = ref;
  return ref;
}

void Compiler::alias(const Value* value, Ref ref) {
  if (output_args_.count(value)) return copy(ref, output(value), value->type().bytes());
  values_[value] = ref;
}

Ref Compiler::buffer(size_t bytes) { return {-1, program_.arena_.add(bytes)}; }

void Compiler::add(Launch launch, const std::vector<Ref>& memory) {
  for (const Ref& ref : memory) {
    if (ref.buffer >= 0) program_.arena_.use(ref.buffer, launches_);
  }
  ++launches_;
  program_.nodes_.back().launches.push_back(std::move(launch));
}

void Compiler::wait_with(const stratum_communicator* communicator) { program_.waits_with_ = communicator; }

void Compiler::copy(Ref from, Ref to, size_t bytes) {
  add(
      [=](const RunContext& c) {
        check(cudaMemcpyAsync(c.at<char>(to), c.at<char>(from), bytes, cudaMemcpyDeviceToDevice, c.stream()),
              "cudaMemcpyAsync");
      },
      {from, to});
}

}  // namespace stratum::cudnn
