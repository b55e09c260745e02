// The conformance grid: for every forward op, small graphs over a spread of shapes and attributes (odd
// sizes, batch 1, stride > 1, padding, groups, dilation, training and inference batch norm). Backward ops
// are covered through the gradients of these graphs; sgd_update and fill have cases of their own.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "ir/graph.h"

namespace stratum::conformance {

struct Case {
  std::string op;    // the forward op under test
  std::string name;  // "conv2d k3 s2 p1 g2 bias"
  // A graph whose leaves are all inputs and whose first output is the op's (first) result.
  std::function<std::unique_ptr<Graph>()> build;
  bool differentiable = true;  // whether to test gradients through the first output
};

std::vector<Case> all_cases();

}  // namespace stratum::conformance
