#include "train/step.h"

#include <algorithm>
#include <set>

#include "backends/executor.h"
#include "ir/error.h"
#include "passes/autodiff.h"
#include "passes/bf16.h"
#include "passes/data_parallel.h"
#include "passes/dce.h"
#include "passes/fusion.h"
#include "passes/pool_first.h"

namespace stratum {

namespace {

// The disabled passes that the graph's fusion pipeline has (a run disables fusion passes by name for its
// training step and its inference graphs alike); Error for a name that is no fusion pass.
std::set<std::string> disabled_in_pipeline(const StepSpec& spec) {
  const std::vector<std::string> pipeline = fusion_pipeline(spec.training);
  std::set<std::string> disabled;
  for (const std::string& name : spec.disabled_fusions) {
    make_fusion_pass(name);  // checks the name
    if (std::count(pipeline.begin(), pipeline.end(), name)) disabled.insert(name);
  }
  return disabled;
}

// Casts the graph to bf16 mixed precision; Error unless every plugin runs the first cast to bf16, the probe
// of whether it runs bf16 at all (oneDNN does on CPUs with AVX512-BF16).
void to_bf16(Graph& graph, const std::vector<const stratum_plugin*>& plugins) {
  Bf16Pass().run(graph);
  for (const auto& node : graph.nodes()) {
    if (node->op_name() != "cast" || node->output()->type().dtype != DType::bf16) continue;
    for (const stratum_plugin* plugin : plugins) {
      if (!plugin_runs(*plugin, *node)) {
        fail("--precision=bf16: the {} plugin does not run bf16 on this machine ({}){}", plugin->name,
             plugin->description,
             std::string_view(plugin->name) == "onednn" ? "; oneDNN needs a CPU with AVX512-BF16" : "");
      }
    }
    return;
  }
}

}  // namespace

std::unique_ptr<Graph> build_step(const StepSpec& spec, const std::vector<const stratum_plugin*>& plugins) {
  auto graph = build_net(*spec.net, spec.batch_or_recipe(), spec.training, spec.size_or_recipe());
  if (spec.logits) {
    Value* logits = graph->find("loss")->producer()->input(0);
    if (logits->name() != "logits") graph->rename(logits, "logits");
    graph->add_output(logits);
  }
  if (spec.precision == DType::bf16) to_bf16(*graph, plugins);
  if (spec.fusion) PoolFirstPass(/*max_pools=*/spec.training).run(*graph);
  if (spec.training && spec.sync_bn) synchronise_batch_norms(*graph);
  if (spec.training) build_training_step(*graph, spec.optimizer, "", spec.data_parallel);
  DcePass().run(*graph);  // and what an import left behind (a final softmax, reshapes read through)
  if (!spec.fusion) return graph;
  FusionOptions options;
  options.runs_on_plugin = [&plugins](const Node& node) {
    return std::all_of(plugins.begin(), plugins.end(),
                       [&](const stratum_plugin* plugin) { return plugin_runs(*plugin, node); });
  };
  fusion_manager(spec.training, options, {.disabled = disabled_in_pipeline(spec)}).run(*graph);
  return graph;
}

DType parse_precision(const std::string& name) {
  if (name != "f32" && name != "bf16") fail("--precision must be f32 or bf16, not '{}'", name);
  return name == "bf16" ? DType::bf16 : DType::f32;
}

int32_t dropout_key(uint64_t seed, int64_t step) {
  // seed 0 keys by the step alone, as runs did before the seed took part
  return static_cast<int32_t>(
      static_cast<uint32_t>(seed * 0x9e3779b97f4a7c15ull + static_cast<uint64_t>(step)));
}

}  // namespace stratum
