#include "tools/step_flags.h"

#include <cstdlib>

#include "backends/tensor.h"
#include "ir/error.h"
#include "passes/pass.h"

namespace stratum {

void add_step_flags(Flags& flags) {
  flags.add("mode", "train", "train (forward, backward, SGD update) or infer");
  flags.add("batch", "0", "images per step (0: the recipe's)");
  flags.add("size", "0", "image size in pixels (0: the recipe's)");
  flags.add("no-fusion", "false", "run the unfused graph (no passes/fusion.h passes), as train --no-fusion");
  flags.add("disable", "", "fusion passes to skip, comma-separated (to bisect)");
  flags.add("precision", "f32", "f32, or bf16: mixed precision (bf16 activations and weight copies)");
  flags.add("steps", "10", "timed steps");
  flags.add("warmup", "1", "untimed steps before them");
  flags.add("threads", "", "CPU threads (default: all cores)");
}

StepSpec step_spec(const Flags& flags, const NetDef& net) {
  const std::string& mode = flags.get("mode");
  if (mode != "train" && mode != "infer") fail("--mode must be train or infer, not '{}'", mode);
  StepSpec spec{&net, flags.get_int("batch"), flags.get_int("size"), mode == "train",
                !flags.get_bool("no-fusion")};
  for (std::string_view name : split_top_level(flags.get("disable")))
    spec.disabled_fusions.emplace_back(name);
  if (spec.batch < 0 || spec.size < 0) fail("--batch and --size must be positive (or 0: the recipe's)");
  spec.precision = parse_precision(flags.get("precision"));
  return spec;
}

TimingOptions timing_options(const Flags& flags) {
  TimingOptions options{flags.get_int("warmup"), flags.get_int("steps")};
  if (options.steps < 1 || options.warmup < 0)
    fail("--steps must be at least 1 and --warmup at least 0, not {} and {}", options.steps, options.warmup);
  return options;
}

void apply_threads(const Flags& flags) {
  if (flags.is_set("threads")) set_cpu_threads(static_cast<int>(flags.get_int_in("threads", 1, 4096)));
}

}  // namespace stratum
