// Runs the conformance grid on a plugin and compares every result with the reference backend.
#pragma once

#include <string>
#include <vector>

#include "backends/plugin.h"
#include "ir/graph.h"

namespace stratum::conformance {

enum class Mode {
  kTest,  // every op of every case (forward and backward ops) alone, as a one-node subgraph
  kGrad,  // every differentiable case with its gradient ops, as one compiled subgraph
  kPerf,  // each case's forward op alone, timed on the plugin and on the reference backend
};

struct Result {
  enum Status { kPass, kFail, kUnsupported } status = kPass;
  std::string op;    // the op judged
  std::string name;  // what ran: the case, and for a backward op the case it came from
  double nmse = 0;   // the worst output's normalised MSE against the reference
  double bound = 0;
  double plugin_ms = 0, reference_ms = 0;  // kPerf only
  std::string message;                     // why it failed, or what is unsupported
};

// Runs every case whose op (or, in kTest, whose gradient op) is `op`, or all when `op` is empty.
std::vector<Result> run_conformance(const stratum_plugin& plugin, Mode mode, const std::string& op = "");

// One row per op (cases passed / failed / unsupported, worst nMSE, or times in kPerf), then every failure.
std::string summary(const std::vector<Result>& results, Mode mode);

// The normalised MSE bound for a node's outputs.
double nmse_bound(const Node& node);

}  // namespace stratum::conformance
