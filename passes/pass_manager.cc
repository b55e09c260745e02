#include "passes/pass_manager.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>

#include "ir/error.h"
#include "ir/printer.h"
#include "ir/verifier.h"

namespace stratum {

namespace {

// Runs verify_graph; an Error's message gets `what` in front.
void verify(const Graph& graph, std::string_view what) {
  try {
    verify_graph(graph);
  } catch (const Error& e) {
    fail("{}: {}", what, e.what());
  }
}

}  // namespace

std::string PassReport::table() const {
  size_t width = 5;  // "total"
  for (const PassRecord& record : passes) width = std::max(width, record.name.size());
  std::string text = fmt::format("{:<{}}  {:<9}  {:>9}\n", "pass", width, "result", "ms");
  double total = 0;
  for (const PassRecord& record : passes) {
    const char* result = record.skipped ? "skipped" : record.changed ? "changed" : "unchanged";
    const std::string ms = record.skipped ? "-" : fmt::format("{:.3f}", record.milliseconds);
    text += fmt::format("{:<{}}  {:<9}  {:>9}\n", record.name, width, result, ms);
    total += record.milliseconds;
  }
  return text + fmt::format("{:<{}}  {:<9}  {:>9.3f}\n", "total", width, "", total);
}

void PassManager::add_pipeline(std::string_view pipeline) {
  for (std::string_view spec : split_top_level(pipeline)) add(make_pass(spec));
}

void PassManager::check_names(const std::set<std::string>& names, const char* option) const {
  std::vector<std::string_view> pipeline;
  for (const auto& pass : passes_) pipeline.push_back(pass->name());
  for (const std::string& name : names) {
    if (std::find(pipeline.begin(), pipeline.end(), name) != pipeline.end()) continue;
    fail("{} names pass '{}', which is not in the pipeline ({})", option, name, fmt::join(pipeline, ", "));
  }
}

PassRecord PassManager::run_pass(Pass& pass, Graph& graph) {
  PassRecord record{std::string(pass.name())};
  const auto start = std::chrono::steady_clock::now();
  try {
    record.changed = pass.run(graph);
    record.rewrites = pass.rewrites();
  } catch (const Error& e) {
    fail("pass {} failed: {}", record.name, e.what());
  }
  record.milliseconds =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  if (options_.verify) verify(graph, fmt::format("pass {} left an invalid graph", record.name));
  if (options_.print_after.count(record.name)) {
    *options_.print_to << "// IR after " << record.name << "\n" << print_graph(graph);
  }
  return record;
}

PassReport PassManager::run(Graph& graph) {
  check_names(options_.print_after, "print_after");
  check_names(options_.disabled, "disabled");
  if (options_.verify) verify(graph, "the graph is invalid before the first pass");
  PassReport report;
  for (const auto& pass : passes_) {
    if (options_.disabled.count(std::string(pass->name()))) {
      report.passes.push_back({.name = std::string(pass->name()), .skipped = true});
    } else {
      report.passes.push_back(run_pass(*pass, graph));
    }
  }
  return report;
}

}  // namespace stratum
