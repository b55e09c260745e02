// plugin_check: the conformance suite for backend plugins.
//   bazel run //tools:plugin_check -- --plugin=onednn [--op=conv2d] [--mode=test|grad|perf]
// Every op over a grid of shapes and attributes, on the plugin and on the reference backend, compared by
// normalised MSE; guard bytes catch out-of-bounds writes; unsupported ops are reported, not failed.
// Exits 1 on any failure; a plugin that cannot run on this machine (a GPU plugin without a device) is
// skipped with one line, exit 0.
#include <iostream>

#include "backends/conformance/runner.h"
#include "backends/loader.h"
#include "ir/error.h"
#include "tools/flags.h"

namespace stratum {
namespace {

conformance::Mode parse_mode(const std::string& mode) {
  if (mode == "test") return conformance::Mode::kTest;
  if (mode == "grad") return conformance::Mode::kGrad;
  if (mode == "perf") return conformance::Mode::kPerf;
  fail("--mode must be test, grad or perf, got '{}'", mode);
}

int run(int argc, char** argv) {
  Flags flags("usage: plugin_check --plugin=NAME [--op=OP] [--mode=test|grad|perf]");
  flags.add("plugin", "", "the plugin to check (libstratum_NAME.so)");
  flags.add("op", "", "only the cases of this op");
  flags.add("mode", "test",
            "test: every op alone; grad: ops with their gradients as one subgraph; perf: times");
  flags.parse(argc, argv);
  if (flags.get("plugin").empty())
    fail("give --plugin=NAME; available plugins: {}", fmt::join(available_plugins(), ", "));

  const stratum_plugin* loaded = nullptr;
  try {
    loaded = &load_plugin(flags.get("plugin"));
  } catch (const PluginUnavailable& e) {
    std::cout << fmt::format("{}: skipped: {}\n", flags.get("plugin"), e.reason());
    return 0;
  }
  const stratum_plugin& plugin = *loaded;
  const conformance::Mode mode = parse_mode(flags.get("mode"));
  std::cout << fmt::format("plugin {} ({}): {}\n", plugin.name, plugin.device_kind, plugin.description);
  const auto results = conformance::run_conformance(plugin, mode, flags.get("op"));
  std::cout << conformance::summary(results, mode);
  int failed = 0, unsupported = 0;
  for (const auto& r : results) {
    failed += r.status == conformance::Result::kFail;
    unsupported += r.status == conformance::Result::kUnsupported;
  }
  std::cout << fmt::format(
      "{} cases: {} passed, {} failed, {} unsupported (they fall back to the reference backend)\n",
      results.size(), results.size() - failed - unsupported, failed, unsupported);
  return failed > 0 ? 1 : 0;
}

}  // namespace
}  // namespace stratum

int main(int argc, char** argv) { return stratum::run_tool(argc, argv, stratum::run); }
