// The text form holds every op: print -> parse -> print is the identity on forward and training graphs.
#include <gtest/gtest.h>

#include <set>

#include "ir/op.h"
#include "ir/parser.h"
#include "ir/printer.h"
#include "ir/verifier.h"
#include "passes/autodiff.h"
#include "tests/test_nets.h"

namespace stratum {
namespace {

void expect_round_trip(const Graph& graph) {
  verify_graph(graph);
  const std::string text = print_graph(graph);
  auto parsed = parse_graph(text, graph.name());
  verify_graph(*parsed);
  EXPECT_EQ(print_graph(*parsed), text);
}

TEST(RoundTrip, ForwardGraphs) {
  expect_round_trip(*testing::every_op_net());
  expect_round_trip(*testing::residual_concat_net());
}

TEST(RoundTrip, TrainingStepUsesEveryOp) {
  auto graph = testing::every_op_net();
  build_training_step(*graph, 0.1);
  expect_round_trip(*graph);
  std::set<std::string> used;
  for (const auto& node : graph->nodes()) used.insert(node->op_name());
  for (const OpDef* op : all_ops())
    EXPECT_TRUE(used.count(op->name)) << op->name << " is not in the test graph";
}

}  // namespace
}  // namespace stratum
