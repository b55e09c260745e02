// print -> parse -> print is the identity on whole graphs: forward, training steps, fused. (Each op's text
// form alone: ir/parser_test.)
#include <gtest/gtest.h>

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

TEST(RoundTrip, TrainingStepsAndFusedGraphs) {
  auto step = testing::every_op_net();
  build_training_step(*step);
  expect_round_trip(*step);
  fusion_manager(/*training=*/true).run(*step);
  expect_round_trip(*step);
  auto inference = testing::every_op_net(2, /*training=*/false);
  fusion_manager(/*training=*/false).run(*inference);
  expect_round_trip(*inference);
}

}  // namespace
}  // namespace stratum
