// The text form holds every op: print -> parse -> print is the identity on forward and training graphs.
#include <gtest/gtest.h>

#include <set>

#include "ir/op.h"
#include "ir/parser.h"
#include "ir/printer.h"
#include "ir/verifier.h"
#include "passes/autodiff.h"
#include "passes/fusion.h"
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

// The training step, unfused and fused, and the fused inference graph, hold every op between them.
TEST(RoundTrip, TrainingStepsAndFusedGraphsUseEveryOp) {
  std::set<std::string> used;
  auto expect_round_trip_of = [&](const Graph& graph) {
    expect_round_trip(graph);
    for (const auto& node : graph.nodes()) used.insert(node->op_name());
  };
  auto step = testing::every_op_net();
  build_training_step(*step, 0.1);
  expect_round_trip_of(*step);
  fusion_manager(/*training=*/true).run(*step);
  expect_round_trip_of(*step);
  auto inference = testing::every_op_net(2, /*training=*/false);
  fusion_manager(/*training=*/false).run(*inference);
  expect_round_trip_of(*inference);
  for (const OpDef* op : all_ops())
    EXPECT_TRUE(used.count(op->name)) << op->name << " is not in the test graph";
}

}  // namespace
}  // namespace stratum
