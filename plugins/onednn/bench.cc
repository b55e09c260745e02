// Training throughput of a net's step on the oneDNN plugin, and where the time goes by op:
//   bazel run //plugins/onednn:bench -- --net=resnet18 [--batch=64] [--size=96] [--steps=10]
#include <algorithm>
#include <chrono>
#include <iostream>
#include <map>
#include <random>

#include "backends/executor.h"
#include "backends/loader.h"
#include "backends/reference/interpreter.h"
#include "ir/error.h"
#include "nets/nets.h"
#include "passes/autodiff.h"
#include "passes/dce.h"
#include "tools/flags.h"

namespace stratum {
namespace {

std::map<std::string, Tensor> random_feeds(const Graph& graph) {
  std::mt19937_64 rng(1);
  std::uniform_real_distribution<float> uniform(-1, 1);
  std::map<std::string, Tensor> feeds;
  for (const Value* input : graph.leaves_of(ValueKind::kInput)) {
    Tensor t(input->type());
    for (int64_t i = 0; i < t.size(); ++i) {
      if (input->type().dtype == DType::i32) {
        t.i32()[i] = static_cast<int32_t>(rng() % 10);
      } else {
        t.f32()[i] = uniform(rng);
      }
    }
    feeds[input->name()] = std::move(t);
  }
  return feeds;
}

// Milliseconds per op kind in the executor's last run, largest first.
std::vector<std::pair<double, std::string>> time_by_op(const Executor& executor) {
  std::map<std::string, double> by_op;
  for (const auto& [node, ms] : executor.node_times()) by_op[node->op_name()] += ms;
  std::vector<std::pair<double, std::string>> sorted;
  for (const auto& [op, ms] : by_op) sorted.emplace_back(ms, op);
  std::sort(sorted.rbegin(), sorted.rend());
  return sorted;
}

int run(int argc, char** argv) {
  Flags flags("usage: bench --net=NAME [--batch=N] [--size=PIXELS] [--steps=N]");
  flags.add("net", "lenet", "a net of nets/nets.h");
  flags.add("batch", "0", "images per step (0: the recipe's)");
  flags.add("size", "0", "image size (0: the recipe's)");
  flags.add("steps", "10", "timed steps, after one warm-up step");
  flags.parse(argc, argv);
  const NetDef& net = find_net(flags.get("net"));
  const int64_t batch = flags.get_int("batch") > 0 ? flags.get_int("batch") : net.recipe.batch;
  auto graph = build_net(net, batch, /*training=*/true, flags.get_int("size"));
  build_training_step(*graph, net.recipe.lr);
  DcePass().run(*graph);

  const stratum_plugin& plugin = load_plugin("onednn");
  Executor executor(*graph, plugin);
  executor.load_state(init_store(*graph, 1));
  const auto feeds = random_feeds(*graph);
  executor.run(feeds);
  const int64_t steps = flags.get_int("steps");
  const auto start = std::chrono::steady_clock::now();
  for (int64_t i = 0; i < steps; ++i) executor.run(feeds);
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();

  std::cout << fmt::format("{} on {} ({}), batch {}, {} partition(s)\n", net.name, plugin.name,
                           plugin.description, batch, executor.partitions().size());
  std::cout << fmt::format("{:.1f} ms/step, {:.0f} images/s\n", ms / steps, 1000.0 * steps * batch / ms);
  for (const auto& [op_ms, op] : time_by_op(executor))
    std::cout << fmt::format("  {:28} {:9.2f} ms\n", op, op_ms);
  return 0;
}

}  // namespace
}  // namespace stratum

int main(int argc, char** argv) { return stratum::run_tool(argc, argv, stratum::run); }
