#include "train/step.h"

#include <algorithm>

#include "backends/executor.h"
#include "passes/autodiff.h"
#include "passes/dce.h"
#include "passes/fusion.h"

namespace stratum {

std::unique_ptr<Graph> build_step(const StepSpec& spec, const std::vector<const stratum_plugin*>& plugins) {
  auto graph = build_net(*spec.net, spec.batch_or_recipe(), spec.training, spec.size_or_recipe());
  if (spec.logits) {
    Value* logits = graph->find("loss")->producer()->input(0);
    if (logits->name() != "logits") graph->rename(logits, "logits");
    graph->add_output(logits);
  }
  if (spec.training) build_training_step(*graph, spec.lr > 0 ? spec.lr : spec.net->recipe.lr);
  DcePass().run(*graph);  // and what an import left behind (a final softmax, reshapes read through)
  if (!spec.fusion) return graph;
  FusionOptions options;
  options.disabled = spec.disabled_fusions;
  options.runs_on_plugin = [&plugins](const Node& node) {
    return std::all_of(plugins.begin(), plugins.end(),
                       [&](const stratum_plugin* plugin) { return plugin_runs(*plugin, node); });
  };
  fuse_graph(*graph, spec.training, options);
  return graph;
}

int32_t dropout_key(uint64_t seed, int64_t step) {
  // seed 0 keys by the step alone, as runs did before the seed took part
  return static_cast<int32_t>(
      static_cast<uint32_t>(seed * 0x9e3779b97f4a7c15ull + static_cast<uint64_t>(step)));
}

}  // namespace stratum
