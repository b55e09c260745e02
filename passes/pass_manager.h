// Runs a pipeline of passes over a graph: "autodiff(momentum=0.9),dce,plan". Verifies the graph after each
// pass, prints the IR after chosen passes, skips disabled ones, and times each.
#pragma once

#include <iostream>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "ir/graph.h"
#include "passes/pass.h"

namespace stratum {

struct PassManagerOptions {
  bool verify = true;                      // verify_graph before the first pass and after each one
  std::set<std::string> print_after = {};  // passes after which the IR is printed
  std::ostream* print_to = &std::cerr;     // where print_after goes
  std::set<std::string> disabled = {};     // passes that are skipped
};

struct PassRecord {
  std::string name;
  bool changed = false;
  bool skipped = false;
  double milliseconds = 0;
  int rewrites = 0;  // Pass::rewrites
};

struct PassReport {
  std::vector<PassRecord> passes;

  // One row per pass and a total: "dce  changed  0.012".
  std::string table() const;
};

class PassManager {
 public:
  explicit PassManager(PassManagerOptions options = {}) : options_(std::move(options)) {}

  void add(std::unique_ptr<Pass> pass) { passes_.push_back(std::move(pass)); }
  // Adds each pass of a comma-separated pipeline of specs (see make_pass()).
  void add_pipeline(std::string_view pipeline);

  // Runs the passes in order. Throws Error naming the pass that failed or left an invalid graph, and when
  // print_after or disabled name a pass that is not in the pipeline.
  PassReport run(Graph& graph);

 private:
  void check_names(const std::set<std::string>& names, const char* option) const;
  PassRecord run_pass(Pass& pass, Graph& graph);

  PassManagerOptions options_;
  std::vector<std::unique_ptr<Pass>> passes_;
};

}  // namespace stratum
