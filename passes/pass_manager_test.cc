#include "passes/pass_manager.h"

#include <gtest/gtest.h>

#include <sstream>

#include "ir/error.h"
#include "ir/printer.h"
#include "passes/registry.h"
#include "passes/test_graphs.h"

namespace stratum {
namespace {

// Moves a relu of the last node's output to the front: its input is then used before it is defined.
class BreakOrderPass : public Pass {
 public:
  std::string_view name() const override { return "break_order"; }
  bool run(Graph& graph) override {
    graph.add_node("relu", {graph.nodes().back()->output()}, {}, {}, graph.nodes().front().get());
    return true;
  }
};

class ThrowPass : public Pass {
 public:
  std::string_view name() const override { return "throw"; }
  bool run(Graph&) override { fail("no luck"); }
};

class PassManagerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    register_all_passes();
    register_pass("break_order", [](const PassOptions&) { return std::make_unique<BreakOrderPass>(); });
    register_pass("throw", [](const PassOptions&) { return std::make_unique<ThrowPass>(); });
  }

  // The conv chain with a dead sigmoid for dce to remove.
  static std::unique_ptr<Graph> graph_with_dead_node() {
    auto graph = conv_chain_graph();
    graph->add_node("sigmoid", {graph->find("relu1")});
    return graph;
  }

  static PassReport run(std::string_view pipeline, Graph& graph, PassManagerOptions options = {}) {
    PassManager manager(std::move(options));
    manager.add_pipeline(pipeline);
    return manager.run(graph);
  }
};

TEST_F(PassManagerTest, RunsThePipelineInOrderAndReports) {
  auto graph = graph_with_dead_node();
  const PassReport report = run("dce, plan, dce", *graph);
  ASSERT_EQ(report.passes.size(), 3u);
  EXPECT_EQ(report.passes[0].name, "dce");
  EXPECT_TRUE(report.passes[0].changed);
  EXPECT_EQ(report.passes[1].name, "plan");
  EXPECT_FALSE(report.passes[1].changed);
  EXPECT_FALSE(report.passes[2].changed);
  for (const PassRecord& record : report.passes) {
    EXPECT_FALSE(record.skipped);
    EXPECT_GE(record.milliseconds, 0);
  }
}

TEST_F(PassManagerTest, AnEmptyPipelineDoesNothing) {
  auto graph = conv_chain_graph();
  EXPECT_TRUE(run("", *graph).passes.empty());
}

TEST_F(PassManagerTest, DisabledPassesAreSkippedAndSaidSo) {
  auto graph = graph_with_dead_node();
  const std::string before = print_graph(*graph);
  PassManagerOptions options;
  options.disabled = {"dce"};
  const PassReport report = run("dce", *graph, options);
  ASSERT_EQ(report.passes.size(), 1u);
  EXPECT_TRUE(report.passes[0].skipped);
  EXPECT_EQ(print_graph(*graph), before);
  EXPECT_NE(report.table().find("dce    skipped"), std::string::npos) << report.table();
}

TEST_F(PassManagerTest, AVerifyFailureNamesThePass) {
  auto graph = conv_chain_graph();
  const std::string message = error_message([&] { run("dce,break_order,plan", *graph); });
  EXPECT_EQ(message.rfind("pass break_order left an invalid graph: ", 0), 0u) << message;
  EXPECT_NE(message.find("used before it is defined"), std::string::npos) << message;
}

TEST_F(PassManagerTest, VerifyCanBeTurnedOff) {
  auto graph = conv_chain_graph();
  PassManagerOptions options;
  options.verify = false;
  EXPECT_EQ(error_message([&] { run("break_order", *graph, options); }), "");
}

TEST_F(PassManagerTest, AnInvalidInputGraphIsNotBlamedOnAPass) {
  auto graph = conv_chain_graph();
  BreakOrderPass().run(*graph);
  const std::string message = error_message([&] { run("dce", *graph); });
  EXPECT_EQ(message.rfind("the graph is invalid before the first pass: ", 0), 0u) << message;
}

TEST_F(PassManagerTest, AFailingPassIsNamed) {
  auto graph = conv_chain_graph();
  EXPECT_EQ(error_message([&] { run("dce,throw", *graph); }), "pass throw failed: no luck");
}

TEST_F(PassManagerTest, PrintsTheIrAfterTheNamedPass) {
  auto graph = graph_with_dead_node();
  std::ostringstream out;
  PassManagerOptions options;
  options.print_after = {"dce"};
  options.print_to = &out;
  run("dce,plan", *graph, options);
  EXPECT_EQ(out.str(), "// IR after dce\n" + print_graph(*graph));
}

TEST_F(PassManagerTest, OptionsMustNamePassesOfThePipeline) {
  auto graph = conv_chain_graph();
  PassManagerOptions options;
  options.print_after = {"dce"};
  EXPECT_EQ(error_message([&] { run("plan", *graph, options); }),
            "print_after names pass 'dce', which is not in the pipeline (plan)");
  options.print_after = {};
  options.disabled = {"dse"};
  EXPECT_EQ(error_message([&] { run("dce,plan", *graph, options); }),
            "disabled names pass 'dse', which is not in the pipeline (dce, plan)");
}

TEST_F(PassManagerTest, PipelineErrorsComeFromTheRegistry) {
  PassManager manager;
  EXPECT_NE(error_message([&] { manager.add_pipeline("dce,nope"); }).find("unknown pass 'nope'"),
            std::string::npos);
  EXPECT_NE(error_message([&] { manager.add_pipeline("dce,,plan"); }).find("the pass name is missing"),
            std::string::npos);
}

TEST(PassReportTest, PrintsATable) {
  PassReport report;
  report.passes = {{"autodiff", true, false, 1.5}, {"dce", false, false, 0.25}, {"plan", false, true, 0}};
  EXPECT_EQ(report.table(),
            "pass      result            ms\n"
            "autodiff  changed        1.500\n"
            "dce       unchanged      0.250\n"
            "plan      skipped            -\n"
            "total                    1.750\n");
}

}  // namespace
}  // namespace stratum
