// bench: like `caffe time`: per layer forward and backward time of nets' steps on one plugin, images/s
// and GFLOP/s, after warm-up, over several steps; fused against unfused with --compare-fusion.
//   bazel run //tools:bench -- --nets=all --backend=onednn --mode=train --steps=5
#include <fmt/format.h>

#include <filesystem>
#include <iostream>

#include "backends/loader.h"
#include "ir/error.h"
#include "tools/net_bench.h"
#include "tools/net_flags.h"
#include "tools/step_flags.h"
#include "train/files.h"

namespace stratum {
namespace {

std::vector<const NetDef*> selected_nets(const Flags& flags) {
  std::vector<const NetDef*> nets;
  if (flags.is_set("model")) {
    if (flags.is_set("nets")) fail("--nets and --model both name nets; give one");
    return {&find_any_net(model_flag(flags))};
  }
  if (flags.get("nets") == "all") {
    for (const NetDef& net : all_nets()) nets.push_back(&net);
    return nets;
  }
  for (const std::string& name : name_list(flags, "nets")) nets.push_back(&find_net(name));
  return nets;
}

void write_csvs(const std::string& dir, const std::vector<NetBench>& benches) {
  std::filesystem::create_directories(dir);
  write_file_atomically(dir + "/layers.csv", layers_csv(benches));
  write_file_atomically(dir + "/summary.csv", summary_csv(benches));
  std::cout << fmt::format("wrote {0}/layers.csv and {0}/summary.csv\n", dir);
}

const NetBench& faster(const NetBench& a, const NetBench& b) {
  return a.step.step_ms <= b.step.step_ms ? a : b;
}

int run(int argc, char** argv) {
  Flags flags(
      "usage: bench [--nets=all|NAME,... | --model=FILE.onnx] [--backend=PLUGIN] [--mode=train|infer] "
      "[--batch=N]\n"
      "             [--no-fusion|--compare-fusion] [flags]\n"
      "Times each net's step on the plugin: per layer forward and backward milliseconds, then one line per\n"
      "net with the columns of ../shared/bench/torch_anchor.py (net size batch mode img/s ms/step GFLOP/img\n"
      "GFLOP/s). After each net's table, its memory: the plan's peak, the bytes the plugin allocated for "
      "its\n"
      "arenas, and the process's peak RSS so far. --compare-fusion also times the unfused step and compares\n"
      "img/s, planned peaks and arena bytes.");
  flags.add("nets", "all", "all, or a comma-separated list of nets (bazel run //tools:opt -- --net=list)");
  flags.add("model", "", "instead of --nets, an ONNX model (one input [N,1,H,H], logits out)");
  flags.add("backend", "onednn", "the plugin");
  flags.add("compare-fusion", "false",
            "also time each net unfused: img/s, planned peak and arena bytes side by side");
  flags.add("out", "", "also write layers.csv and summary.csv into this directory");
  add_step_flags(flags);
  flags.parse(argc, argv);
  check_no_positional(flags);
  const bool compare_fusion = flags.get_bool("compare-fusion");
  if (compare_fusion && flags.get_bool("no-fusion"))
    fail("--compare-fusion and --no-fusion exclude each other");
  const std::vector<const NetDef*> nets = selected_nets(flags);
  const TimingOptions timing = timing_options(flags);
  apply_threads(flags);
  const stratum_plugin& plugin = load_plugin(flags.get("backend"));
  std::cout << fmt::format("bench on {} ({}): {} steps after {} warm-up\n", plugin.name, plugin.description,
                           timing.steps, timing.warmup);

  ProgressLine progress;
  std::vector<NetBench> benches;
  std::vector<std::pair<NetBench, NetBench>> fused_unfused;
  for (const NetDef* net : nets) {
    const StepSpec spec = step_spec(flags, *net);
    benches.push_back(bench_net(spec, plugin, timing, progress));
    progress.clear();
    std::cout << fmt::format("\n{} {}, batch {}, {}×{}, {}:\n", net->name, spec.mode(),
                             spec.batch_or_recipe(), spec.size_or_recipe(), spec.size_or_recipe(),
                             spec.fusion_name())
              << layer_table(benches.back()) << memory_line(benches.back()) << std::flush;
    if (!compare_fusion) continue;
    // In the order fused, unfused, unfused, fused, each keeping its faster run: neither gains from its place
    // (a second run of the same graph measured up to 6% faster here).
    StepSpec unfused = spec;
    unfused.fusion = false;
    const NetBench unfused_bench =
        faster(bench_net(unfused, plugin, timing, progress), bench_net(unfused, plugin, timing, progress));
    fused_unfused.emplace_back(faster(benches.back(), bench_net(spec, plugin, timing, progress)),
                               unfused_bench);
    progress.clear();
  }
  std::cout << "\n";
  for (const NetBench& bench : benches) std::cout << summary_line(bench);
  if (compare_fusion) {
    std::cout << "\n" << fusion_table(fused_unfused);
    for (const auto& pair : fused_unfused) benches.push_back(pair.second);
  }
  if (flags.is_set("out")) write_csvs(user_path(flags.get("out")), benches);
  return 0;
}

}  // namespace
}  // namespace stratum

int main(int argc, char** argv) { return stratum::run_tool(argc, argv, stratum::run); }
