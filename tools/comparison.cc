#include "tools/comparison.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>

#include "backends/conformance/runner.h"
#include "backends/executor.h"
#include "backends/random_feeds.h"
#include "backends/reference/interpreter.h"
#include "tools/bar_chart.h"
#include "tools/layer_groups.h"

namespace stratum {

namespace {

double element(const Tensor& t, int64_t i) {
  switch (t.type().dtype) {
    case DType::i32:
      return t.i32()[i];
    case DType::bf16:
      return float_from_bf16(t.bf16()[i]);
    default:
      return t.f32()[i];
  }
}

// Squared differences and squared baseline values, summed over several tensors.
struct SquareSums {
  double error = 0, norm = 0;
  double nmse() const { return std::isnan(error) ? INFINITY : norm > 0 ? error / norm : error; }
};

// Every node output that is not a graph output yet becomes one.
void output_every_value(Graph& graph) {
  for (const auto& node : graph.nodes()) {
    for (Value* out : node->outputs()) {
      const auto& outputs = graph.outputs();
      if (std::find(outputs.begin(), outputs.end(), out) == outputs.end()) graph.add_output(out);
    }
  }
}

std::vector<Tensor> run_once(const Graph& graph, const stratum_plugin& plugin) {
  Executor executor(graph, plugin);
  executor.load_state(init_store(graph, 1));
  executor.run(step_feeds(graph));
  return executor.outputs();
}

// Fills in each layer's differences (LayerComparison).
void add_differences(const Graph& graph, const LayerGroups& groups, const std::vector<Tensor>& a,
                     const std::vector<Tensor>& b, std::vector<LayerComparison>& layers) {
  std::vector<std::array<SquareSums, 2>> sums(layers.size());  // forward, backward
  for (size_t i = 0; i < graph.outputs().size(); ++i) {
    const Node* node = graph.outputs()[i]->producer();
    if (node == nullptr || node->op_name() == "sgd_update") continue;
    const size_t l = groups.layer_of.at(node);
    SquareSums& sum = sums[l][node->backward()];
    for (int64_t k = 0; k < a[i].size(); ++k) {
      const double d = element(b[i], k) - element(a[i], k);
      sum.error += d * d;
      sum.norm += element(a[i], k) * element(a[i], k);
      if (!(std::abs(d) <= layers[l].max_abs)) layers[l].max_abs = std::abs(d);  // NaN too
    }
    layers[l].nmse_bound = std::max(layers[l].nmse_bound, conformance::nmse_bound(*node));
  }
  for (size_t l = 0; l < layers.size(); ++l) {
    layers[l].forward_nmse = sums[l][0].nmse();
    layers[l].backward_nmse = sums[l][1].nmse();
  }
}

bool over_bound(const LayerComparison& l) {
  return !(l.forward_nmse <= l.nmse_bound && l.backward_nmse <= l.nmse_bound);
}

double total_ms(const LayerTime& t) { return t.forward_ms + t.backward_ms; }

LayerComparison totals(const Comparison& c) {
  LayerComparison sum;
  sum.layer = "total";
  for (const LayerComparison& layer : c.layers) {
    for (auto side : {&LayerComparison::a, &LayerComparison::b}) {
      (sum.*side).forward_ms += (layer.*side).forward_ms;
      (sum.*side).backward_ms += (layer.*side).backward_ms;
    }
  }
  return sum;
}

double images_per_s(const Comparison& c, double step_ms) {
  return 1000.0 * c.spec.batch_or_recipe() / step_ms;
}

}  // namespace

Comparison compare_plugins(const StepSpec& spec, const stratum_plugin& a, const stratum_plugin& b,
                           const TimingOptions& timing, ProgressLine& progress) {
  auto graph = build_step(spec, {&a, &b});
  const LayerGroups groups = group_layers(*graph);
  Comparison c;
  c.a = a.name;
  c.b = b.name;
  c.spec = spec;
  c.layers.resize(groups.layers.size());
  for (size_t i = 0; i < groups.layers.size(); ++i) c.layers[i].layer = groups.layers[i];
  for (auto [plugin, side, step_ms] : {std::tuple{&a, &LayerComparison::a, &c.step_ms_a},
                                       std::tuple{&b, &LayerComparison::b, &c.step_ms_b}}) {
    const std::string label = fmt::format("{} {} on {}", spec.net->name, spec.mode(), plugin->name);
    const StepTimes times = time_step(*graph, *plugin, timing, label, progress);
    const std::vector<LayerTime> per_layer = layer_times(groups, times);
    for (size_t i = 0; i < per_layer.size(); ++i) c.layers[i].*side = per_layer[i];
    *step_ms = times.step_ms;
    c.timed_alone.insert(times.timed_alone.begin(), times.timed_alone.end());
  }
  output_every_value(*graph);
  progress.show(
      fmt::format("{} {}: comparing every value on {} and {}", spec.net->name, spec.mode(), a.name, b.name));
  add_differences(*graph, groups, run_once(*graph, a), run_once(*graph, b), c.layers);
  return c;
}

std::string comparison_table(const Comparison& c) {
  size_t width = 12;
  for (const LayerComparison& layer : c.layers) width = std::max(width, layer.layer.size() + 2);
  const size_t column = std::max<size_t>(12, std::max(c.a.size(), c.b.size()) + 6);
  const bool training = c.spec.training;
  auto times = [&](const LayerTime& t) {
    return training ? fmt::format("{:>{}.3f}{:>{}.3f}", t.forward_ms, column, t.backward_ms, column)
                    : fmt::format("{:>{}.3f}", t.forward_ms, column);
  };
  auto nmse = [&](const LayerComparison& l) {
    return training ? fmt::format("{:>11.3g}{:>11.3g}", l.forward_nmse, l.backward_nmse)
                    : fmt::format("{:>11.3g}", l.forward_nmse);
  };
  std::string text = fmt::format("{:<{}}", "layer (ms)", width);
  for (const std::string& plugin : {c.a, c.b}) {
    text += training ? fmt::format("{:>{}}{:>{}}", plugin + " fwd", column, plugin + " bwd", column)
                     : fmt::format("{:>{}}", plugin, column);
  }
  text += fmt::format(
      "{:>10}{:>11}{}{:>9}\n", "speedup", "max abs",
      training ? fmt::format("{:>11}{:>11}", "fwd nMSE", "bwd nMSE") : fmt::format("{:>11}", "nMSE"),
      "bound");
  for (const LayerComparison& l : c.layers) {
    text += fmt::format("{:<{}}{}{}{:>9.2f}x{:>11.3g}{}{:>9.0e}{}\n", l.layer, width, times(l.a), times(l.b),
                        speedup(total_ms(l.a), total_ms(l.b)), l.max_abs, nmse(l), l.nmse_bound,
                        over_bound(l) ? "  over the bound" : "");
  }
  const LayerComparison sum = totals(c);
  text += fmt::format("{:<{}}{}{}{:>9.2f}x\n", "total", width, times(sum.a), times(sum.b),
                      speedup(total_ms(sum.a), total_ms(sum.b)));
  return text + fmt::format(
                    "step (wall clock): {} {:.2f} ms, {:.1f} img/s; {} {:.2f} ms, {:.1f} img/s; "
                    "{} runs {:.2f}x as fast as {}\n",
                    c.a, c.step_ms_a, images_per_s(c, c.step_ms_a), c.b, c.step_ms_b,
                    images_per_s(c, c.step_ms_b), c.b, speedup(c.step_ms_a, c.step_ms_b), c.a);
}

std::string comparison_csv(const Comparison& c) {
  std::string csv = fmt::format(
      "layer,{0}_forward_ms,{0}_backward_ms,{1}_forward_ms,{1}_backward_ms,speedup,max_abs,forward_nmse,"
      "backward_nmse,nmse_bound\n",
      c.a, c.b);
  auto row = [&](const LayerComparison& l, const std::string& differences) {
    return fmt::format("{},{:.4f},{:.4f},{:.4f},{:.4f},{:.4f},{}\n", l.layer, l.a.forward_ms, l.a.backward_ms,
                       l.b.forward_ms, l.b.backward_ms, speedup(total_ms(l.a), total_ms(l.b)), differences);
  };
  for (const LayerComparison& l : c.layers) {
    csv += row(l, fmt::format("{:.6g},{:.6g},{:.6g},{:.6g}", l.max_abs, l.forward_nmse, l.backward_nmse,
                              l.nmse_bound));
  }
  csv += row(totals(c), ",,,");
  LayerComparison step;
  step.layer = "step";
  step.a.forward_ms = c.step_ms_a;
  step.b.forward_ms = c.step_ms_b;
  return csv + row(step, ",,,");
}

std::string comparison_svg(const Comparison& c) {
  BarChart chart{fmt::format("{} {}, batch {}: time per layer", c.spec.net->name, c.spec.mode(),
                             c.spec.batch_or_recipe()),
                 "milliseconds per step",
                 {c.a, c.b},
                 {"forward"},
                 {}};
  if (c.spec.training) chart.segments.push_back("backward");
  for (const LayerComparison& l : c.layers) {
    chart.rows.push_back({l.layer, {{l.a.forward_ms, l.a.backward_ms}, {l.b.forward_ms, l.b.backward_ms}}});
  }
  return bar_chart_svg(chart);
}

}  // namespace stratum
