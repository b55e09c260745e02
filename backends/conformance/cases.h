// The conformance grid: a one-node graph for every example of every op (OpDef::examples: odd sizes, batch 1,
// stride > 1, padding, groups, dilation, training and inference batch norm, the fused forms), and a few
// graphs where a fused op reads what another op of the plugin wrote (its workspace, its layout). Backward
// ops are covered by their own examples and through the gradients of the differentiable cases.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "ir/op.h"

namespace stratum::conformance {

struct Case {
  std::string op;    // the op under test
  std::string name;  // "conv2d(f32[2,3,7,7], f32[4,3,3,3]) padding=[1,1]"
  // A graph whose leaves are all inputs and whose first output is the op's (first) result.
  std::function<std::unique_ptr<Graph>()> build;
  bool differentiable = true;           // whether to test gradients through the first output
  std::map<std::string, Fill> fills{};  // how an input is drawn, by name (default: uniform)
};

std::vector<Case> all_cases();

}  // namespace stratum::conformance
