// opt: reads IR text, runs a pipeline of passes and prints the result (like mlir-opt).
//   bazel run //tools:opt -- model.ir --passes=autodiff,dce,plan --print
#include <fmt/format.h>

#include <fstream>
#include <iostream>
#include <sstream>

#include "ir/error.h"
#include "ir/op.h"
#include "ir/parser.h"
#include "ir/printer.h"
#include "nets/nets.h"
#include "nets/summary.h"
#include "passes/fusion.h"
#include "passes/pass_manager.h"
#include "passes/registry.h"
#include "tools/flags.h"
#include "tools/net_flags.h"

namespace stratum {
namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("cannot read {}", path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// "a,b" -> {"a", "b"}
std::set<std::string> name_set(const std::string& list) {
  std::set<std::string> names;
  for (std::string_view name : split_top_level(list)) names.emplace(name);
  return names;
}

void list_ops() {
  for (const OpDef* op : all_ops()) std::cout << fmt::format("{:<28} {}\n", op->name, op->doc);
}

// Fuses the graph and says what changed: each pass's rewrites, and (for a net) the layers after.
void fuse_and_report(Graph& graph, const FusionOptions& fusion, std::set<std::string> disabled, bool is_net) {
  const size_t before = graph.nodes().size();
  const bool training = !graph.updates().empty();
  const PassReport report = fusion_manager(training, fusion, {.disabled = std::move(disabled)}).run(graph);
  std::cout << fmt::format("{} fusion: {} nodes -> {}\n", training ? "training" : "inference", before,
                           graph.nodes().size());
  for (const PassRecord& pass : report.passes) {
    const std::string result = pass.skipped ? "disabled" : fmt::format("{} rewrites", pass.rewrites);
    std::cout << fmt::format("  {:<18} {}\n", pass.name, result);
  }
  if (is_net) std::cout << layer_summary(graph);
}

int run(int argc, char** argv) {
  Flags flags(
      "usage: opt FILE|--net=NAME|--model=FILE.onnx [--passes=PIPELINE] [--print] [--print-after=PASS,...] "
      "[--disable=PASS,...]\n"
      "           [--fuse [--explain]] [--time]\n"
      "Reads IR text from FILE (- for standard input) or builds a net's forward graph, runs the passes in\n"
      "order, verifying the graph after each, and prints the result with --print. With --net, also prints\n"
      "the net's layer summary (before and after fusion with --fuse). Passes: "
      "autodiff(optimizer=sgd|sgdw|adam|adamw,\n"
      "momentum=F,nesterov=0|1,weight_decay=F,clip_norm=F,loss=NAME), dce, plan, and the fusion passes "
      "(passes/fusion.h).");
  flags.add("passes", "", "comma-separated pipeline of passes");
  flags.add("print", "false", "print the IR after the pipeline");
  flags.add("print-after", "", "print the IR after these passes");
  flags.add("disable", "", "skip these passes (fusion passes too)");
  flags.add("fuse", "false",
            "after the pipeline, run the fusion pipeline of the graph's kind (a step, or inference)");
  flags.add("explain", "false", "with --fuse, say why each candidate that was not fused was not");
  flags.add("time", "false", "print each pass's time");
  flags.add("ops", "false", "list every op and exit");
  flags.add("net", "", "build this net's forward graph instead of reading a file");
  flags.add("model", "", "build this ONNX model's forward graph instead");
  flags.add("batch", "2", "the batch size of --net's graph");
  flags.add("inference", "false", "build --net for inference (batch norm on running statistics, no dropout)");
  flags.parse(argc, argv);
  if (flags.get_bool("ops")) {
    list_ops();
    return 0;
  }
  const bool is_net = flags.is_set("net") || flags.is_set("model");
  if (flags.positional().size() != (is_net ? 0u : 1u)) {
    std::cerr << "error: give exactly one IR file, or --net or --model\n\n" << flags.usage();
    return 2;
  }

  std::unique_ptr<Graph> graph;
  if (is_net) {
    graph = build_net(net_flag(flags, ""), flags.get_int("batch"), !flags.get_bool("inference"));
    std::cout << layer_summary(*graph);
  } else {
    const std::string& file = flags.positional()[0];
    const std::string text =
        file == "-" ? std::string(std::istreambuf_iterator<char>(std::cin), {}) : read_file(user_path(file));
    graph = parse_graph(text, file);
  }

  register_all_passes();
  std::set<std::string> disabled = name_set(flags.get("disable")), disabled_fusions;
  FusionOptions fusion;
  if (flags.get_bool("explain")) fusion.explain = &std::cout;
  for (const std::string& name : fusion_pass_names()) {
    if (disabled.erase(name)) disabled_fusions.insert(name);
  }
  PassManager manager({.verify = true,
                       .print_after = name_set(flags.get("print-after")),
                       .print_to = &std::cout,
                       .disabled = disabled});
  manager.add_pipeline(flags.get("passes"));
  const PassReport report = manager.run(*graph);
  if (flags.get_bool("fuse")) fuse_and_report(*graph, fusion, disabled_fusions, is_net);
  if (flags.get_bool("print")) std::cout << print_graph(*graph);
  if (flags.get_bool("time")) std::cerr << report.table();
  return 0;
}

}  // namespace
}  // namespace stratum

int main(int argc, char** argv) { return stratum::run_tool(argc, argv, stratum::run); }
