// compare: the same net, weights and batch on two plugins, layer by layer: time on each, speedup and how far
// apart their values are; a table, layers.csv and layers.svg.
//   bazel run //tools:compare -- --net=resnet18 --backends=reference,onednn --batch=4 --steps=3
#include <fmt/format.h>

#include <filesystem>
#include <iostream>

#include "backends/loader.h"
#include "ir/error.h"
#include "tools/comparison.h"
#include "tools/net_flags.h"
#include "tools/step_flags.h"
#include "train/files.h"

namespace stratum {
namespace {

int run(int argc, char** argv) {
  Flags flags(
      "usage: compare --net=NAME|--model=FILE.onnx --backends=A,B [--mode=train|infer] [--batch=N] "
      "[--no-fusion] [flags]\n"
      "Runs the same step on plugins A and B: per layer of the net, forward and backward time on each, how\n"
      "many times faster B runs, and how far B's values are from A's (largest difference, normalised MSE,\n"
      "plugin_check's bound). Writes the table as layers.csv and a bar chart as layers.svg.");
  flags.add("net", "lenet", "the net (bazel run //tools:opt -- --net=list)");
  flags.add("model", "", "instead of --net, an ONNX model (one input [N,1,H,H], logits out)");
  flags.add("backends", "reference,onednn", "the two plugins, the baseline first");
  flags.add("out", "", "where to write layers.csv and layers.svg (default: runs/compare-<net>-<A>-<B>)");
  add_step_flags(flags);
  flags.parse(argc, argv);
  check_no_positional(flags);
  const std::vector<std::string> backends = name_list(flags, "backends");
  if (backends.size() != 2) fail("--backends takes two plugins, A,B; got '{}'", flags.get("backends"));
  const StepSpec spec = step_spec(flags, net_flag(flags, "lenet"));
  const TimingOptions timing = timing_options(flags);
  apply_threads(flags);
  const stratum_plugin& a = load_plugin(backends[0]);
  const stratum_plugin& b = load_plugin(backends[1]);

  ProgressLine progress;
  const Comparison comparison = compare_plugins(spec, a, b, timing, progress);
  progress.clear();
  std::cout << fmt::format("{} {}, batch {}, {}×{}, {}: {} ({}) against {} ({}), {} steps after {} warm-up\n",
                           spec.net->name, spec.mode(), spec.batch_or_recipe(), spec.size_or_recipe(),
                           spec.size_or_recipe(), spec.fusion_name(), b.name, b.description, a.name,
                           a.description, timing.steps, timing.warmup);
  std::cout << comparison_table(comparison) << timed_alone_note(comparison.timed_alone);

  const std::string out =
      user_path(flags.is_set("out") ? flags.get("out")
                                    : fmt::format("runs/compare-{}-{}-{}", spec.net->name, a.name, b.name));
  std::filesystem::create_directories(out);
  write_file_atomically(out + "/layers.csv", comparison_csv(comparison));
  write_file_atomically(out + "/layers.svg", comparison_svg(comparison));
  std::cout << fmt::format("wrote {0}/layers.csv and {0}/layers.svg\n", out);
  return 0;
}

}  // namespace
}  // namespace stratum

int main(int argc, char** argv) { return stratum::run_tool(argc, argv, stratum::run); }
