// Where a step's time goes: per node, then per layer of the net (tools/layer_groups.h).
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "backends/plugin.h"
#include "backends/tensor.h"
#include "ir/graph.h"
#include "tools/layer_groups.h"
#include "tools/progress_line.h"

namespace stratum {

struct TimingOptions {
  int64_t warmup = 1;  // untimed steps first (oneDNN creates some primitives on the first run)
  int64_t steps = 10;  // timed steps
};

struct StepTimes {
  double step_ms = 0;                               // wall clock per step, mean of the timed steps
  std::unordered_map<const Node*, double> node_ms;  // every node, per step
  std::set<std::string> timed_alone;                // the plugins whose nodes were timed alone
  std::map<std::string, size_t> arena_bytes;        // Executor::arena_bytes: per plugin that reports them
};

// What bench and compare feed a step: random_feeds(graph, 1), but a training step's learning rate %lr is
// 0.01 (a random one may be negative, or large enough to make a net diverge within a few steps; the time
// does not depend on it).
std::map<std::string, Tensor> step_feeds(const Graph& graph);

// Runs `graph` on `plugin` (the reference backend taking what it lacks) from init_store(graph, 1) on
// step_feeds(graph): options.warmup steps, then options.steps timed ones (the step's wall clock), then
// half as many for the nodes' times. A node gets the time its plugin reports for it (the mean over those
// steps) or, where the plugin reports none (the reference backend does not), the time it takes alone
// (time_node_alone, options.steps runs). `label` names the run
// on the progress line.
StepTimes time_step(const Graph& graph, const stratum_plugin& plugin, const TimingOptions& options,
                    const std::string& label, ProgressLine& progress);

// "reference reports no per-node times: its nodes were timed alone\n" (one line per plugin), or "".
std::string timed_alone_note(const std::set<std::string>& plugins);

// Milliseconds per run of `node` alone on `plugin`, as a one-node program on random inputs: the mean of
// `runs` runs after one untimed run. Error naming the node and the plugin's message when it fails.
double time_node_alone(const Node& node, const stratum_plugin& plugin, int64_t runs);

struct LayerTime {
  double forward_ms = 0, backward_ms = 0;
};
// Per layer of `groups`, the sum of its nodes' times.
std::vector<LayerTime> layer_times(const LayerGroups& groups, const StepTimes& times);

}  // namespace stratum
