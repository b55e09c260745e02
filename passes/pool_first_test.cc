#include "passes/pool_first.h"

#include <gtest/gtest.h>

#include <cmath>

#include "backends/random_feeds.h"
#include "backends/reference/interpreter.h"
#include "passes/autodiff.h"
#include "passes/test_graphs.h"

namespace stratum {
namespace {

// The training step's loss and updated params, on the reference backend.
Store step_result(Graph& graph) {
  build_training_step(graph);
  Store state = init_store(graph, 3);
  Interpreter interpreter(graph);
  interpreter.run(random_feeds(graph, 7), state);
  state["loss"] = interpreter.value(graph.find("loss"));
  return state;
}

// conv -> relu -> max_pool becomes conv -> max_pool -> relu, and the training step computes exactly what it
// did: the same loss and the same gradient, bit for bit.
TEST(PoolFirstPass, TurnsReluMaxPoolRoundWithTheSameStep) {
  auto original = conv_chain_graph(), turned = conv_chain_graph();
  PoolFirstPass pass;
  ASSERT_TRUE(pass.run(*turned));
  EXPECT_EQ(pass.rewrites(), 1);
  const Value* conv = turned->find("conv1");
  ASSERT_EQ(conv->users().size(), 1u);
  const Node* pool = conv->users()[0];
  EXPECT_EQ(pool->op_name(), "max_pool");
  ASSERT_EQ(pool->output()->users().size(), 1u);
  EXPECT_EQ(pool->output()->users()[0]->op_name(), "relu");
  const Store want = step_result(*original), got = step_result(*turned);
  for (const auto& [name, tensor] : want) {
    const Tensor& other = got.at(name);
    ASSERT_EQ(other.type(), tensor.type()) << name;
    for (int64_t i = 0; i < tensor.size(); ++i)
      EXPECT_EQ(other.f32()[i], tensor.f32()[i]) << name << "[" << i << "]";
  }
}

// 1×1 conv -> avg_pool becomes avg_pool -> 1×1 conv, with the same step to rounding; a padded 3×3 conv's
// pool stays after it, and without max_pools a relu's max pool stays too.
TEST(PoolFirstPass, PoolsBeforeA1x1ConvWithTheSameStep) {
  auto original = transition_graph(), turned = transition_graph();
  PoolFirstPass pass(/*max_pools=*/false);
  ASSERT_TRUE(pass.run(*turned));
  EXPECT_EQ(pass.rewrites(), 1);
  const Node* conv = turned->find("t.pooled")->producer();
  EXPECT_EQ(conv->op_name(), "conv2d");
  EXPECT_EQ(conv->input(0)->producer()->op_name(), "avg_pool");
  EXPECT_EQ(turned->find("c.pooled")->producer()->input(0), turned->find("c"));
  const Store want = step_result(*original), got = step_result(*turned);
  for (const auto& [name, tensor] : want) {
    const Tensor& other = got.at(name);
    ASSERT_EQ(other.type(), tensor.type()) << name;
    for (int64_t i = 0; i < tensor.size(); ++i)
      EXPECT_NEAR(other.f32()[i], tensor.f32()[i], 1e-6 * (1 + std::abs(tensor.f32()[i])))
          << name << "[" << i << "]";
  }
  EXPECT_FALSE(PoolFirstPass(/*max_pools=*/false).run(*conv_chain_graph()));
}

// A 1×1 conv already fused with a relu or a residual is not linear in x: its pool stays after it.
TEST(PoolFirstPass, LeavesAFusedConvsPoolAlone) {
  for (const bool relu : {true, false}) {
    auto graph = transition_graph();
    Node* conv = graph->find("t")->producer();
    std::vector<Value*> inputs(conv->inputs().begin(), conv->inputs().end());
    if (!relu) inputs.push_back(graph->add_input("r", conv->output()->type()));
    Node* fused = graph->add_node("conv2d", inputs, {{"relu", relu}}, {}, conv);
    graph->replace_all_uses(conv->output(), fused->output());
    graph->erase_node(conv);
    EXPECT_FALSE(PoolFirstPass(/*max_pools=*/false).run(*graph)) << (relu ? "relu" : "residual");
  }
}

// A relu whose output something else reads too stays where it is: a concat's max pool, a relu read twice.
TEST(PoolFirstPass, LeavesARelusOtherReadersAlone) {
  EXPECT_FALSE(PoolFirstPass().run(*concat_graph()));
  EXPECT_FALSE(PoolFirstPass().run(*residual_graph()));
}

}  // namespace
}  // namespace stratum
