#include "passes/memory_plan.h"

#include <gtest/gtest.h>

#include <random>
#include <sstream>
#include <unordered_set>

#include "ir/printer.h"
#include "passes/test_graphs.h"

namespace stratum {
namespace {

bool shares_bytes(const MemoryPlan& plan, const Value* a, const Value* b) {
  const int64_t a_begin = plan.offset.at(a), b_begin = plan.offset.at(b);
  return a_begin < b_begin + b->type().bytes() && b_begin < a_begin + a->type().bytes();
}

bool in_place(const MemoryPlan& plan, const Value* out, const Value* in) {
  return std::count(plan.inplace.begin(), plan.inplace.end(), std::make_pair(out, in)) == 1;
}

TEST(MemoryPlanTest, EveryTestGraphGetsAValidPlan) {
  for (const auto& graph : all_test_graphs()) {
    SCOPED_TRACE(graph->name());
    const MemoryPlan plan = plan_memory(*graph);
    check_plan(*graph, plan);
    const std::unordered_set<const Node*> constant = graph->constant_nodes();
    for (const auto& node : graph->nodes()) {
      const bool planned = !constant.count(node.get());
      for (const Value* out : node->outputs()) {
        EXPECT_EQ(plan.offset.count(out), planned ? 1u : 0u) << node->label();
        if (planned) {
          EXPECT_EQ(plan.offset.at(out) % 64, 0);
        }
      }
    }
    for (const Value* leaf : graph->leaves()) EXPECT_EQ(plan.offset.count(leaf), 0u);
  }
}

TEST(MemoryPlanTest, ReusesMemoryAlongChains) {
  for (auto make : {conv_chain_graph, residual_graph}) {
    auto graph = make();
    const MemoryPlan plan = plan_memory(*graph);
    EXPECT_LT(plan.peak_bytes, plan.total_bytes) << graph->name();
  }
}

TEST(MemoryPlanTest, ReluAfterConvRunsInPlace) {
  auto graph = conv_chain_graph();
  const MemoryPlan plan = plan_memory(*graph);
  for (const char* conv : {"conv1", "conv2"}) {
    const Value* relu = graph->find(conv == std::string("conv1") ? "relu1" : "relu2");
    EXPECT_EQ(plan.offset.at(relu), plan.offset.at(graph->find(conv)));
    EXPECT_TRUE(in_place(plan, relu, graph->find(conv))) << conv;
  }
}

TEST(MemoryPlanTest, AResidualInputIsNotOverwritten) {
  auto graph = residual_graph();
  const MemoryPlan plan = plan_memory(*graph);
  const Value* skip = graph->find("skip");
  for (const char* later : {"c2", "r2", "c3", "sum"}) {
    EXPECT_FALSE(shares_bytes(plan, skip, graph->find(later))) << later;
  }
  EXPECT_TRUE(in_place(plan, graph->find("skip"), graph->find("c1")));
  EXPECT_TRUE(in_place(plan, graph->find("sum"), graph->find("c3")));  // input 0 dies at the add
}

TEST(MemoryPlanTest, NoInPlaceWhenTheInputLivesOn) {
  auto graph = concat_graph();  // %a is read by the concat after relu
  const MemoryPlan plan = plan_memory(*graph);
  EXPECT_FALSE(shares_bytes(plan, graph->find("a"), graph->find("ra")));
  EXPECT_FALSE(in_place(plan, graph->find("ra"), graph->find("a")));
}

TEST(MemoryPlanTest, GraphOutputsAndUpdatesLiveToTheEnd) {
  Graph graph;
  Value* x = graph.add_input("x", {DType::f32, {4, 64}});
  Value* a = graph.add_node("relu", {x}, {}, {"a"})->output();
  Value* b = graph.add_node("relu", {a}, {}, {"b"})->output();
  Value* c = graph.add_node("relu", {b}, {}, {"c"})->output();
  graph.add_output(a);
  graph.add_output(c);
  const MemoryPlan plan = plan_memory(graph);
  check_plan(graph, plan);
  EXPECT_TRUE(plan.offset.count(a) && !shares_bytes(plan, a, b) && !shares_bytes(plan, a, c));
  EXPECT_TRUE(in_place(plan, c, b));
}

TEST(MemoryPlanTest, SgdUpdateOfAParamIsNotPlannedInPlace) {
  auto graph = sgd_step_graph();
  const MemoryPlan plan = plan_memory(*graph);
  check_plan(*graph, plan);
  const Value* w_new = graph->find("w.new");
  EXPECT_FALSE(shares_bytes(plan, w_new, graph->find("dw")));  // dw is input 1, and w.new an update
  for (const auto& [out, in] : plan.inplace) EXPECT_NE(out, w_new);
}

// Seeded random graphs with fan-out, in-place chains, outputs and two sizes ([4,16] and [4,32]).
TEST(MemoryPlanTest, RandomGraphsGetValidPlans) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 100; ++trial) {
    Graph graph;
    std::vector<Value*> values = {graph.add_input("x", {DType::f32, {4, 16}})};
    for (int i = 0; i < 40; ++i) {
      Value* a = values[rng() % values.size()];
      Value* b = values[rng() % values.size()];
      if (b->type() != a->type()) b = a;
      const bool narrow = a->type().shape[1] == 16;
      switch (rng() % 3) {
        case 0:
          values.push_back(graph.add_node("relu", {a})->output());
          break;
        case 1:
          values.push_back(graph.add_node("add", {a, b})->output());
          break;
        default:
          values.push_back(
              narrow ? graph.add_node("concat", {a, b})->output()
                     : graph.add_node("slice", {a}, {{"axis", 1}, {"begin", 0}, {"end", 16}})->output());
      }
      if (rng() % 8 == 0) graph.add_output(values.back());
    }
    graph.add_output(values.back());
    const MemoryPlan plan = plan_memory(graph);
    EXPECT_EQ(error_message([&] { check_plan(graph, plan); }), "") << print_graph(graph);
    EXPECT_LE(plan.peak_bytes, plan.total_bytes);
  }
}

TEST(MemoryPlanTest, ReportsPeakAgainstTotal) {
  Graph graph;
  Value* x = graph.add_input("x", {DType::f32, {4, 256}});
  Value* a = graph.add_node("relu", {x})->output();  // x is a leaf: no in place
  graph.add_output(graph.add_node("sigmoid", {a})->output());
  const MemoryPlan plan = plan_memory(graph);
  EXPECT_EQ(plan_report(graph, plan),
            "graph main: peak 4.0 KiB of 8.0 KiB without reuse (\u221250%), 1 of 2 values in place");
  EXPECT_EQ(plan_report(Graph(), MemoryPlan()), "graph main: nothing to plan");
}

// ---- check_plan on corrupted plans ----

class CorruptPlanTest : public ::testing::Test {
 protected:
  CorruptPlanTest() : graph_(conv_chain_graph()), plan_(plan_memory(*graph_)) {}

  std::string check_error() {
    return error_message([&] { check_plan(*graph_, plan_); });
  }

  // %relu1 and the max_pool reading it are live together at the max_pool, which is named "%0".
  const Value* relu1() const { return graph_->find("relu1"); }
  const Value* pooled() const { return graph_->find("relu1")->users()[0]->output(); }

  std::unique_ptr<Graph> graph_;
  MemoryPlan plan_;
};

TEST_F(CorruptPlanTest, CatchesTwoLiveValuesOverlapping) {
  ASSERT_EQ(check_error(), "");
  plan_.offset[pooled()] = plan_.offset.at(relu1());
  const std::string message = check_error();
  EXPECT_NE(message.find("overlap while both are live"), std::string::npos) << message;
  EXPECT_NE(message.find("%relu1 ["), std::string::npos) << message;
  EXPECT_NE(message.find("%0 ["), std::string::npos) << message;
}

TEST_F(CorruptPlanTest, CatchesAnIllegalInPlacePair) {
  plan_.offset[pooled()] = plan_.offset.at(relu1());
  plan_.inplace.emplace_back(pooled(), relu1());
  EXPECT_EQ(check_error(), "memory plan: %0 cannot take the bytes of %relu1: max_pool is not an in-place op");
}

TEST_F(CorruptPlanTest, CatchesAValueOutsideTheArena) {
  plan_.peak_bytes -= 1;
  EXPECT_NE(check_error().find("-byte arena"), std::string::npos);
}

TEST_F(CorruptPlanTest, CatchesMissingAndMisalignedOffsets) {
  plan_.offset[relu1()] += 4;
  EXPECT_EQ(check_error(), "memory plan: %relu1 is at offset " + std::to_string(plan_.offset.at(relu1())) +
                               ", not a multiple of 64");
  plan_.offset.erase(relu1());
  EXPECT_EQ(check_error(), "memory plan: %relu1 has no offset");
}

TEST_F(CorruptPlanTest, CatchesAPlannedLeaf) {
  plan_.offset[graph_->find("x")] = 0;
  EXPECT_EQ(check_error(), "memory plan: %x is planned but is no node output");
}

TEST(MemoryPlanPassTest, WritesTheReportAndLeavesTheGraph) {
  auto graph = residual_graph();
  const std::string before = print_graph(*graph);
  std::ostringstream out;
  EXPECT_FALSE(MemoryPlanPass(out).run(*graph));
  EXPECT_EQ(out.str(), plan_report(*graph, plan_memory(*graph)) + "\n");
  EXPECT_EQ(print_graph(*graph), before);
}

}  // namespace
}  // namespace stratum
