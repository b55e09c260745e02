#include "backends/conformance/runner.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>

#include "backends/conformance/cases.h"
#include "backends/conformance/plugin_run.h"
#include "backends/random_feeds.h"
#include "backends/reference/interpreter.h"
#include "backends/reference/plugin.h"
#include "backends/subgraph.h"
#include "ir/error.h"
#include "passes/autodiff.h"

namespace stratum::conformance {

namespace {

// Outputs that are zero up to rounding (a bias's gradient under batch norm: Σdz = 0) are judged at the scale
// of 1e-3 per element.
constexpr double kFloorMs = 1e-6;

// Random inputs, drawn as the case says (f32 in [-1,1) by default), i32 in [0,3) (labels of at least three
// classes; a dropout key can be anything), from a generator seeded by the case's name (FNV-1a), so that
// adding a case changes no other case's inputs.
std::map<std::string, Tensor> case_feeds(const Case& c, const Graph& graph) {
  uint64_t seed = 14695981039346656037u;
  for (unsigned char ch : c.name) seed = (seed ^ ch) * 1099511628211u;
  std::mt19937_64 rng(seed);
  std::map<std::string, Tensor> feeds;
  for (const Value* input : graph.leaves_of(ValueKind::kInput)) {
    auto fill = c.fills.find(input->name());
    feeds[input->name()] = random_tensor(input->type(), rng, /*classes=*/3,
                                         fill == c.fills.end() ? Fill::kUniform : fill->second);
  }
  return feeds;
}

// The case's graph, with the gradient of its first output (seeded by an input %dy) with respect to every
// f32 input that has one added as further outputs.
std::unique_ptr<Graph> with_gradients(const Case& c) {
  auto graph = c.build();
  if (!c.differentiable) return graph;
  Value* y = graph->outputs()[0];
  Value* dy = graph->add_input("dy", y->type());
  std::vector<Value*> wrt;
  for (Value* input : graph->leaves_of(ValueKind::kInput)) {
    if (input->type().dtype == DType::f32 && input != dy) wrt.push_back(input);
  }
  for (Value* grad : build_gradients(*graph, y, dy, wrt, /*allow_missing=*/true)) {
    if (grad != nullptr) graph->add_output(grad);
  }
  return graph;
}

// The nodes' outputs that the rest of the graph or its outputs need.
std::function<bool(const Value*)> needed_outside(const Graph& graph, const std::vector<const Node*>& nodes) {
  return [&graph, nodes](const Value* v) {
    const auto& outs = graph.outputs();
    if (std::find(outs.begin(), outs.end(), v) != outs.end() || nodes.size() == 1) return true;
    for (const Node* user : v->users()) {
      if (std::find(nodes.begin(), nodes.end(), user) == nodes.end()) return true;
    }
    return false;
  };
}

// Runs `nodes` on the plugin with the reference's values as inputs and compares every output arg.
Result judge(const stratum_plugin& plugin, const Interpreter& reference, const Graph& graph,
             const std::vector<const Node*>& nodes, std::string op, std::string name) {
  Result result;
  result.op = std::move(op);
  result.name = std::move(name);
  SubgraphDesc desc(nodes, needed_outside(graph, nodes));
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (!plugin_supports(plugin, desc, i)) {
      result.status = Result::kUnsupported;
      result.message += (result.message.empty() ? "" : ", ") + nodes[i]->op_name();
    }
  }
  if (result.status == Result::kUnsupported) return result;
  const auto& args = desc.args();
  const size_t n_inputs = desc.subgraph().n_inputs;
  std::vector<const Tensor*> inputs;
  for (size_t i = 0; i < n_inputs; ++i) inputs.push_back(&reference.value(args[i]));
  try {
    std::vector<Tensor> outputs = PluginRun(plugin, desc).run(inputs);
    for (size_t i = 0; i < outputs.size(); ++i) {
      const Value* v = args[n_inputs + i];
      const double error = nmse(outputs[i], reference.value(v), kFloorMs);
      const double bound = v->producer() ? nmse_bound(*v->producer()) : 0;
      result.nmse = std::max(result.nmse, error);
      result.bound = std::max(result.bound, bound);
      if (!(error <= bound)) {
        result.status = Result::kFail;
        result.message += fmt::format("{} output {}: nMSE {:.3g} > {:.3g}; ", v->producer()->label(),
                                      v->output_index(), error, bound);
      }
    }
  } catch (const Error& e) {
    result.status = Result::kFail;
    result.message = e.what();
  }
  return result;
}

double median_ms(const stratum_plugin& plugin, const SubgraphDesc& desc,
                 const std::vector<const Tensor*>& inputs) {
  PluginRun run(plugin, desc);
  run.run(inputs);  // warm-up, and the first run's one-time work
  std::vector<double> times;
  const auto start = std::chrono::steady_clock::now();
  while (times.size() < 5 ||
         (times.size() < 50 && std::chrono::steady_clock::now() - start < std::chrono::milliseconds(200))) {
    const auto t0 = std::chrono::steady_clock::now();
    run.run(inputs);
    times.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::nth_element(times.begin(), times.begin() + times.size() / 2, times.end());
  return times[times.size() / 2];
}

Result time_case(const stratum_plugin& plugin, const Interpreter& reference, const Node& node,
                 const std::string& name) {
  Result result;
  result.op = node.op_name();
  result.name = name;
  SubgraphDesc desc({&node}, [](const Value*) { return true; });
  if (!plugin_supports(plugin, desc, 0)) {
    result.status = Result::kUnsupported;
    return result;
  }
  std::vector<const Tensor*> inputs;
  for (int32_t i = 0; i < desc.subgraph().n_inputs; ++i) inputs.push_back(&reference.value(desc.args()[i]));
  try {
    result.plugin_ms = median_ms(plugin, desc, inputs);
    result.reference_ms = median_ms(reference_plugin(), desc, inputs);
  } catch (const Error& e) {
    result.status = Result::kFail;
    result.message = e.what();
  }
  return result;
}

}  // namespace

double nmse_bound(const Node& node) {
  // f32 kernels that sum in another order than the reference differ by a few ulps per element; more where
  // they sum a batch norm's gradient (conv_bn_grad's too) or the loss.
  const std::string& op = node.op_name();
  const double f32 =
      op == "batch_norm_grad" || op == "conv_bn_grad" || op == "softmax_cross_entropy" ? 1e-6 : 1e-7;
  // bf16 outputs, rounded from sums in another order, may round the other way (one bf16 ulp, 2^-8 relative,
  // on some elements), and a fused op's bf16 intermediates (conv_bn_grad's dz) are rounded where the
  // reference keeps f32: 100 times f32's bound.
  for (const Value* out : node.outputs()) {
    if (out->type().dtype == DType::bf16) return 100 * f32;
  }
  return f32;
}

std::vector<Result> run_conformance(const stratum_plugin& plugin, Mode mode, const std::string& op) {
  std::vector<Result> results;
  for (const Case& c : all_cases()) {
    auto graph = with_gradients(c);
    Interpreter reference(*graph);
    Store no_state;
    reference.run(case_feeds(c, *graph), no_state);
    const Node& subject = *graph->nodes()[0];
    if (mode == Mode::kPerf) {
      if (op.empty() || op == c.op) results.push_back(time_case(plugin, reference, subject, c.name));
    } else if (mode == Mode::kGrad) {
      if (!c.differentiable || !(op.empty() || op == c.op)) continue;
      std::vector<const Node*> nodes;
      for (const auto& node : graph->nodes()) nodes.push_back(node.get());
      results.push_back(judge(plugin, reference, *graph, nodes, c.op, c.name + ", with gradients"));
    } else {
      for (const auto& node : graph->nodes()) {
        if (!op.empty() && op != node->op_name()) continue;
        const std::string name = node.get() == &subject
                                     ? c.name
                                     : fmt::format("{}, in the gradient of {}", node->op_name(), c.name);
        results.push_back(judge(plugin, reference, *graph, {node.get()}, node->op_name(), name));
      }
    }
  }
  if (results.empty()) fail("no conformance case runs op '{}'", op);
  return results;
}

std::string summary(const std::vector<Result>& results, Mode mode) {
  struct Row {
    int pass = 0, fail = 0, unsupported = 0;
    double worst = 0, plugin_ms = 0, reference_ms = 0;
  };
  std::map<std::string, Row> rows;
  for (const Result& r : results) {
    Row& row = rows[r.op];
    (r.status == Result::kPass ? row.pass : r.status == Result::kFail ? row.fail : row.unsupported)++;
    row.worst = std::max(row.worst, r.nmse);
    row.plugin_ms += r.plugin_ms;
    row.reference_ms += r.reference_ms;
  }
  std::string text = mode == Mode::kPerf ? fmt::format("{:<28} {:>6} {:>12} {:>12} {:>9}\n", "op", "cases",
                                                       "plugin ms", "reference ms", "speedup")
                                         : fmt::format("{:<28} {:>6} {:>6} {:>12} {:>11}\n", "op", "pass",
                                                       "fail", "unsupported", "worst nMSE");
  for (const auto& [op, row] : rows) {
    if (mode == Mode::kPerf) {
      text +=
          fmt::format("{:<28} {:>6} {:>12.4f} {:>12.4f} {:>8.1f}x\n", op, row.pass + row.fail, row.plugin_ms,
                      row.reference_ms, row.plugin_ms > 0 ? row.reference_ms / row.plugin_ms : 0.0);
    } else {
      text += fmt::format("{:<28} {:>6} {:>6} {:>12} {:>11.2g}\n", op, row.pass, row.fail, row.unsupported,
                          row.worst);
    }
  }
  for (const Result& r : results) {
    if (r.status == Result::kFail) text += fmt::format("FAIL {}: {}\n", r.name, r.message);
  }
  return text;
}

}  // namespace stratum::conformance
