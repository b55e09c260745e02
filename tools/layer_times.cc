#include "tools/layer_times.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <random>

#include "backends/executor.h"
#include "backends/random_feeds.h"
#include "backends/reference/interpreter.h"
#include "backends/subgraph.h"
#include "ir/error.h"
#include "tools/net_step.h"

namespace stratum {

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// One node compiled alone on a plugin, with its args in the plugin's memory and random inputs.
class OneNodeProgram {
 public:
  OneNodeProgram(const Node& node, const stratum_plugin& plugin)
      : node_(node), plugin_(plugin), desc_({&node}, [](const Value*) { return true; }) {
    try {
      prepare();
    } catch (...) {
      release();
      throw;
    }
  }
  ~OneNodeProgram() { release(); }
  OneNodeProgram(const OneNodeProgram&) = delete;
  OneNodeProgram& operator=(const OneNodeProgram&) = delete;

  void run() { check(plugin_.run(program_, args_.data(), static_cast<int32_t>(args_.size())), "running"); }

 private:
  void prepare() {
    std::mt19937_64 rng(1);
    const auto& values = desc_.args();
    for (size_t i = 0; i < values.size(); ++i) {
      const TensorType& type = values[i]->type();
      args_.push_back(plugin_.alloc(type.bytes()));
      if (args_.back() == nullptr)
        fail("{}: cannot allocate {} for {}", plugin_.name, type_str(type), node_.label());
      if (i >= static_cast<size_t>(desc_.subgraph().n_inputs)) continue;
      const Tensor input = random_tensor(type, rng);
      check(plugin_.copy_from_host(args_.back(), input.data(), type.bytes()), "copying an input in");
    }
    program_ = plugin_.compile(&desc_.subgraph());
    if (program_ == nullptr) check(1, "compiling");
  }

  void release() {
    if (program_ != nullptr) plugin_.release(program_);
    for (void* arg : args_) {
      if (arg != nullptr) plugin_.free(arg);
    }
    program_ = nullptr;
    args_.clear();
  }

  void check(int status, const char* what) const {
    if (status != 0)
      fail("{}: {} {} alone failed: {}", plugin_.name, what, node_.label(), plugin_.last_error());
  }

  const Node& node_;
  const stratum_plugin& plugin_;
  SubgraphDesc desc_;
  std::vector<void*> args_;
  stratum_program* program_ = nullptr;
};

}  // namespace

double time_node_alone(const Node& node, const stratum_plugin& plugin, int64_t runs) {
  OneNodeProgram program(node, plugin);
  program.run();
  const auto start = Clock::now();
  for (int64_t i = 0; i < runs; ++i) program.run();
  return ms_since(start) / runs;
}

std::map<std::string, Tensor> step_feeds(const Graph& graph) {
  std::map<std::string, Tensor> feeds = random_feeds(graph, 1);
  if (auto lr = feeds.find("lr"); lr != feeds.end()) lr->second = Tensor(0.01f);
  return feeds;
}

StepTimes time_step(const Graph& graph, const stratum_plugin& plugin, const TimingOptions& options,
                    const std::string& label, ProgressLine& progress) {
  progress.show(fmt::format("{}: compiling", label));
  Executor executor(graph, plugin);
  executor.load_state(init_store(graph, 1));
  const auto feeds = step_feeds(graph);
  for (int64_t i = 0; i < options.warmup; ++i) {
    progress.show(fmt::format("{}: warm-up step {}/{}", label, i + 1, options.warmup));
    executor.run(feeds);
  }
  // The step's time first, untouched by per-node timing (which may slow a plugin down), then the nodes'.
  StepTimes times;
  double run_ms = 0;
  for (int64_t i = 0; i < options.steps; ++i) {
    progress.show(fmt::format("{}: step {}/{}, {:.1f} ms/step", label, i + 1, options.steps,
                              i == 0 ? 0.0 : run_ms / i));
    const auto start = Clock::now();
    executor.run(feeds);
    run_ms += ms_since(start);
  }
  times.step_ms = run_ms / options.steps;
  times.arena_bytes = executor.arena_bytes();
  executor.node_times();  // asks for them: a plugin may time nodes only from the next run on
  const int64_t node_runs = std::max<int64_t>(1, options.steps / 2);
  for (int64_t i = 0; i < node_runs; ++i) {
    progress.show(fmt::format("{}: per-node times, step {}/{}", label, i + 1, node_runs));
    executor.run(feeds);
    for (const auto& [node, ms] : executor.node_times()) times.node_ms[node] += ms / node_runs;
  }
  for (size_t p = executor.prologue_size(); p < executor.partitions().size(); ++p) {  // constants run once
    const Partition& partition = executor.partitions()[p];
    if (partition.plugin->node_times != nullptr) continue;
    times.timed_alone.insert(partition.plugin->name);
    for (size_t i = 0; i < partition.nodes.size(); ++i) {
      const Node& node = *partition.nodes[i];
      progress.show(fmt::format("{}: timing {} alone on {}, node {}/{}", label, node.op_name(),
                                partition.plugin->name, i + 1, partition.nodes.size()));
      times.node_ms[&node] = time_node_alone(node, *partition.plugin, options.steps);
    }
  }
  return times;
}

std::string timed_alone_note(const std::set<std::string>& plugins) {
  std::string note;
  for (const std::string& plugin : plugins)
    note += fmt::format("{} reports no per-node times: its nodes were timed alone\n", plugin);
  return note;
}

std::vector<LayerTime> layer_times(const LayerGroups& groups, const StepTimes& times) {
  std::vector<LayerTime> layers(groups.layers.size());
  for (const auto& [node, ms] : times.node_ms) {
    LayerTime& layer = layers[groups.layer_of.at(node)];
    (node->backward() ? layer.backward_ms : layer.forward_ms) += ms;
  }
  return layers;
}

}  // namespace stratum
