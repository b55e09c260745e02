#include "tools/net_bench.h"

#include <fmt/format.h>

#include <sys/resource.h>

#include <algorithm>

#include "passes/memory_plan.h"
#include "tools/layer_groups.h"

namespace stratum {

namespace {

double mib(int64_t bytes) { return bytes / 1048576.0; }

// The process's peak resident set so far; Linux gives ru_maxrss in KiB.
int64_t peak_rss_bytes() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return int64_t{usage.ru_maxrss} * 1024;
}

std::string arena_mib(const NetBench& bench) {
  return bench.arena_bytes < 0 ? "-" : fmt::format("{:.1f} MiB", mib(bench.arena_bytes));
}

}  // namespace

NetBench bench_net(const StepSpec& spec, const stratum_plugin& plugin, const TimingOptions& timing,
                   ProgressLine& progress) {
  const auto graph = build_step(spec, {&plugin});
  const LayerGroups groups = group_layers(*graph);
  NetBench bench;
  bench.spec = spec;
  bench.plugin = plugin.name;
  bench.layers = groups.layers;
  const std::string label = fmt::format("{} {} {} {} on {}", spec.net->name, spec.mode(), spec.fusion_name(),
                                        spec.precision_name(), plugin.name);
  bench.step = time_step(*graph, plugin, timing, label, progress);
  bench.times = layer_times(groups, bench.step);
  bench.peak_bytes = plan_memory(*graph).peak_bytes;
  auto arena = bench.step.arena_bytes.find(plugin.name);
  if (arena != bench.step.arena_bytes.end()) bench.arena_bytes = static_cast<int64_t>(arena->second);
  bench.peak_rss_bytes = peak_rss_bytes();
  bench.flops_per_image = forward_flops_per_image(spec) * (spec.training ? 3 : 1);
  return bench;
}

double images_per_s(const NetBench& bench) {
  return 1000.0 * bench.spec.batch_or_recipe() / bench.step.step_ms;
}

std::string layer_table(const NetBench& bench) {
  size_t width = 12;
  for (const std::string& layer : bench.layers) width = std::max(width, layer.size() + 2);
  double sum = 0;
  for (const LayerTime& t : bench.times) sum += t.forward_ms + t.backward_ms;
  std::string text = fmt::format("{:<{}}{:>12}{:>12}{:>12}{:>8}\n", "layer", width, "forward ms",
                                 "backward ms", "total ms", "%");
  for (size_t i = 0; i < bench.layers.size(); ++i) {
    const LayerTime& t = bench.times[i];
    const double total = t.forward_ms + t.backward_ms;
    text += fmt::format("{:<{}}{:>12.3f}{:>12.3f}{:>12.3f}{:>8.1f}\n", bench.layers[i], width, t.forward_ms,
                        t.backward_ms, total, sum > 0 ? 100 * total / sum : 0);
  }
  text += fmt::format("{:<{}}{:>36.3f}\n", "total", width, sum);
  return text + fmt::format("{:<{}}{:>36.3f}\n", "step (wall clock)", width, bench.step.step_ms) +
         timed_alone_note(bench.step.timed_alone);
}

std::string summary_line(const NetBench& bench) {
  const double ips = images_per_s(bench);
  return fmt::format("{} {} {} {} {:.1f} img/s {:.1f} ms/step {:.3f} GFLOP/img {:.1f} GFLOP/s\n",
                     bench.spec.net->name, bench.spec.size_or_recipe(), bench.spec.batch_or_recipe(),
                     bench.spec.mode(), ips, bench.step.step_ms, bench.flops_per_image / 1e9,
                     bench.flops_per_image * ips / 1e9);
}

std::string memory_line(const NetBench& bench) {
  const std::string arena = bench.arena_bytes < 0 ? "not reported" : arena_mib(bench);
  return fmt::format("plan peak {:.1f} MiB, {} arena {}, process peak RSS {:.1f} MiB\n",
                     mib(bench.peak_bytes), bench.plugin, arena, mib(bench.peak_rss_bytes));
}

std::string layers_csv(const std::vector<NetBench>& benches) {
  std::string csv = "net,fusion,layer,forward_ms,backward_ms\n";
  for (const NetBench& bench : benches) {
    for (size_t i = 0; i < bench.layers.size(); ++i) {
      csv += fmt::format("{},{},{},{:.4f},{:.4f}\n", bench.spec.net->name, bench.spec.fusion_name(),
                         bench.layers[i], bench.times[i].forward_ms, bench.times[i].backward_ms);
    }
  }
  return csv;
}

std::string summary_csv(const std::vector<NetBench>& benches) {
  std::string csv =
      "net,size,batch,mode,fusion,img_per_s,ms_per_step,gflop_per_img,gflop_per_s,peak_activation_bytes,"
      "arena_bytes,peak_rss_bytes\n";
  for (const NetBench& b : benches) {
    const double ips = images_per_s(b);
    csv +=
        fmt::format("{},{},{},{},{},{:.1f},{:.3f},{:.4f},{:.2f},{},{},{}\n", b.spec.net->name,
                    b.spec.size_or_recipe(), b.spec.batch_or_recipe(), b.spec.mode(), b.spec.fusion_name(),
                    ips, b.step.step_ms, b.flops_per_image / 1e9, b.flops_per_image * ips / 1e9, b.peak_bytes,
                    b.arena_bytes < 0 ? "" : std::to_string(b.arena_bytes), b.peak_rss_bytes);
  }
  return csv;
}

std::string fusion_table(const std::vector<std::pair<NetBench, NetBench>>& pairs) {
  auto ratio = [](int64_t a, int64_t b) {
    return a < 0 || b < 0 ? std::string("-") : fmt::format("{:.2f}x", double(a) / std::max<int64_t>(b, 1));
  };
  std::string text = fmt::format("{:<12}{:<7}{:>15}{:>15}{:>8}{:>16}{:>16}{:>8}{:>16}{:>16}{:>8}\n", "net",
                                 "mode", "fused img/s", "unfused img/s", "ratio", "fused peak",
                                 "unfused peak", "ratio", "fused arena", "unfused arena", "ratio");
  for (const auto& [fused, unfused] : pairs) {
    text += fmt::format(
        "{:<12}{:<7}{:>15.1f}{:>15.1f}{:>7.2f}x{:>12.1f} MiB{:>12.1f} MiB{:>8}{:>16}{:>16}{:>8}\n",
        fused.spec.net->name, fused.spec.mode(), images_per_s(fused), images_per_s(unfused),
        images_per_s(fused) / images_per_s(unfused), mib(fused.peak_bytes), mib(unfused.peak_bytes),
        ratio(fused.peak_bytes, unfused.peak_bytes), arena_mib(fused), arena_mib(unfused),
        ratio(fused.arena_bytes, unfused.arena_bytes));
  }
  return text;
}

}  // namespace stratum
