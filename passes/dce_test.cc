#include "passes/dce.h"

#include <gtest/gtest.h>

#include "ir/printer.h"
#include "ir/verifier.h"
#include "passes/test_graphs.h"

namespace stratum {
namespace {

const TensorType kMatrix{DType::f32, {4, 8}};

std::vector<std::string> op_names(const Graph& graph) {
  std::vector<std::string> names;
  for (const auto& node : graph.nodes()) names.push_back(node->op_name());
  return names;
}

TEST(DceTest, RemovesUnusedChains) {
  Graph graph;
  Value* x = graph.add_input("x", kMatrix);
  Value* a = graph.add_node("relu", {x}, {}, {"a"})->output();
  Value* twice = graph.add_node("add", {a, a})->output();  // reads %a twice
  graph.add_node("sigmoid", {twice});
  graph.add_output(graph.add_node("sigmoid", {x}, {}, {"y"})->output());

  EXPECT_TRUE(DcePass().run(graph));
  verify_graph(graph);
  EXPECT_EQ(op_names(graph), std::vector<std::string>{"sigmoid"});
  EXPECT_EQ(graph.find("a"), nullptr);
  EXPECT_EQ(x->users().size(), 1u);
}

TEST(DceTest, KeepsANodeWithOneUsedOutputOfSeveral) {
  Graph graph;
  Value* logits = graph.add_input("logits", kMatrix);
  Value* labels = graph.add_input("labels", {DType::i32, {4}});
  Node* loss = graph.add_node("softmax_cross_entropy", {logits, labels}, {}, {"loss", "correct"});
  graph.add_output(loss->output(0));

  EXPECT_FALSE(DcePass().run(graph));
  EXPECT_EQ(op_names(graph), std::vector<std::string>{"softmax_cross_entropy"});
}

TEST(DceTest, OutputsAndUpdatesKeepTheirProducers) {
  auto graph = sgd_step_graph();  // the sgd_update nodes reach nothing but updates
  graph->add_node("relu", {graph->find("dlogits")});
  EXPECT_TRUE(DcePass().run(*graph));
  EXPECT_EQ(op_names(*graph), (std::vector<std::string>{"linear", "softmax_cross_entropy", "fill",
                                                        "softmax_cross_entropy_grad", "linear_grad_weight",
                                                        "bias_grad", "fill", "sgd_update", "sgd_update"}));
}

TEST(DceTest, RemovesEverythingWhenNothingIsUsed) {
  auto graph = conv_chain_graph();
  graph->clear_outputs();
  EXPECT_TRUE(DcePass().run(*graph));
  EXPECT_TRUE(graph->nodes().empty());
  verify_graph(*graph);
}

TEST(DceTest, UnchangedReallyIsUnchanged) {
  for (const auto& graph : all_test_graphs()) {
    SCOPED_TRACE(graph->name());
    const std::string before = print_graph(*graph);
    EXPECT_FALSE(DcePass().run(*graph));
    EXPECT_EQ(print_graph(*graph), before);
  }
}

}  // namespace
}  // namespace stratum
