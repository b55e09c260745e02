// bench and compare on LeNet, onednn against reference: every layer once, every node in a layer, positive
// times, differences within plugin_check's bounds, CSV that parses and SVG that is well-formed.
#include <gtest/gtest.h>

#include <cstdlib>
#include <sstream>

#include "backends/loader.h"
#include "ir/parser.h"
#include "tools/bar_chart.h"
#include "tools/comparison.h"
#include "tools/layer_groups.h"
#include "tools/net_bench.h"

namespace stratum {
namespace {

StepSpec lenet_step(bool training) { return {&find_net("lenet"), /*batch=*/4, /*size=*/0, training, true}; }

std::vector<std::vector<std::string>> parse_csv(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    rows.emplace_back();
    std::istringstream fields(line);
    for (std::string field; std::getline(fields, field, ',');) rows.back().push_back(field);
    if (!line.empty() && line.back() == ',') rows.back().emplace_back();
  }
  return rows;
}

bool is_number(const std::string& field) {
  char* end = nullptr;
  std::strtod(field.c_str(), &end);
  return !field.empty() && *end == '\0';
}

// Whether the text is one well-formed XML element: every tag closed in order, quoted attributes.
bool well_formed_xml(const std::string& xml) {
  std::vector<std::string> open;
  size_t elements = 0;
  for (size_t at = xml.find('<'); at != std::string::npos; at = xml.find('<', at + 1)) {
    const size_t end = xml.find('>', at);
    if (end == std::string::npos) return false;
    const std::string tag = xml.substr(at + 1, end - at - 1);
    const size_t quotes = std::count(tag.begin(), tag.end(), '"');
    if (tag.empty() || quotes % 2 != 0) return false;
    const std::string name = tag.substr(tag[0] == '/', tag.find_first_of(" />", 1) - (tag[0] == '/'));
    if (tag[0] == '/') {
      if (open.empty() || open.back() != name) return false;
      open.pop_back();
    } else if (tag.back() != '/') {
      if (open.empty() && elements > 0) return false;  // a second root
      open.push_back(name);
    }
    ++elements;
  }
  return open.empty() && elements > 0;
}

// Whether a layer's time is positive; flatten's may be 0 (a plugin may make it a view of its input).
::testing::AssertionResult positive(const LayerTime& t, const std::string& layer) {
  const bool ok =
      t.forward_ms >= 0 && t.backward_ms >= 0 && (layer == "flatten" || t.forward_ms + t.backward_ms > 0);
  if (ok) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << layer << " took " << t.forward_ms << " + " << t.backward_ms << " ms";
}

TEST(LayerGroups, LeNetTrainingStepHasEachLayerOnceAndEveryNodeInOne) {
  const auto graph = build_step(lenet_step(/*training=*/true), {&load_plugin("onednn")});
  const LayerGroups groups = group_layers(*graph);
  EXPECT_EQ(groups.layers, (std::vector<std::string>{"conv1", "avg_pool1", "conv2", "avg_pool2", "flatten",
                                                     "fc1", "fc2", "fc3", "softmax_cross_entropy"}));
  std::vector<int> backward_nodes(groups.layers.size());
  for (const auto& node : graph->nodes()) {
    ASSERT_TRUE(groups.layer_of.count(node.get())) << node->label();
    if (node->backward()) ++backward_nodes[groups.layer_of.at(node.get())];
    const std::string& layer = groups.layers[groups.layer_of.at(node.get())];
    const std::string& op = node->op_name();
    const std::map<std::string, std::string> expected = {
        {"avg_pool_grad", layer.substr(0, 8) == "avg_pool" ? layer : "avg_pool"},
        {"softmax_cross_entropy_grad", "softmax_cross_entropy"},
        {"fill", "softmax_cross_entropy"},
        {"reshape", "flatten"}};
    if (expected.count(op)) {
      EXPECT_EQ(layer, expected.at(op)) << op;
    }
    if (op == "sgd_update") {
      EXPECT_EQ(node->input(0)->name().rfind(layer + ".", 0), 0u) << layer;
    }
  }
  // Each avg pool's backward is fused with its conv's sigmoid's (avg_pool_sigmoid_grad), in the conv's layer.
  for (size_t i = 0; i < groups.layers.size(); ++i) {
    EXPECT_EQ(backward_nodes[i] > 0, groups.layers[i].rfind("avg_pool", 0) != 0)
        << groups.layers[i] << " has " << backward_nodes[i] << " backward nodes";
  }
}

// A node's layer is its origin; the nodes marked backward come after the forward. A layer whose forward
// fusion put into another's node (here %add) comes after those with forward nodes.
TEST(LayerGroups, AreTheOriginsInForwardOrder) {
  const auto graph = parse_graph(R"(graph g {
  input %x : f32[2,3]
  input %labels : i32[2]
  input %lr : f32[]
  param %fc.weight : f32[3,3] = xavier_uniform
  %0 = linear(%x, %fc.weight) : f32[2,3] @fc
  %1 = relu(%0) : f32[2,3] @fc
  %2 = add(%1, %x) : f32[2,3]
  %loss, %correct = softmax_cross_entropy(%2, %labels) : f32[], i32[] @loss
  %3 = fill() {value=1.0} : f32[] @loss backward
  %4 = softmax_cross_entropy_grad(%3, %2, %labels) : f32[2,3] @loss backward
  %5 = relu_grad(%4, %1) : f32[2,3] @add backward
  %6 = linear_grad_weight(%5, %x) : f32[3,3] @fc backward
  %7 = sgd_update(%fc.weight, %6, %lr) : f32[3,3] @fc backward
  update %fc.weight = %7
  output %loss, %correct
}
)");
  const LayerGroups groups = group_layers(*graph);
  EXPECT_EQ(groups.layers, (std::vector<std::string>{"fc", "(no origin)", "loss", "add"}));
  const auto& nodes = graph->nodes();
  for (size_t i = 0; i < nodes.size(); ++i) EXPECT_EQ(nodes[i]->backward(), i > 3) << i;
  EXPECT_EQ(groups.layers[groups.layer_of.at(nodes[5].get())], "loss");
  EXPECT_EQ(groups.layers[groups.layer_of.at(nodes[7].get())], "fc");
}

TEST(LayerGroups, BranchedNetsGroupEveryNode) {
  for (const char* name : {"googlenet", "resnet18", "densenet", "regnetx32"}) {
    const auto graph = build_step({&find_net(name), 2, 64, true, true}, {&load_plugin("onednn")});
    const LayerGroups groups = group_layers(*graph);
    std::set<std::string> unique(groups.layers.begin(), groups.layers.end());
    EXPECT_EQ(unique.size(), groups.layers.size()) << name;
    for (const auto& node : graph->nodes()) EXPECT_TRUE(groups.layer_of.count(node.get())) << node->label();
  }
}

TEST(Bench, LeNetOnOneDnnTimesEveryLayer) {
  ProgressLine progress;
  for (bool training : {true, false}) {
    const NetBench bench = bench_net(lenet_step(training), load_plugin("onednn"), {1, 2}, progress);
    EXPECT_GT(bench.step.step_ms, 0);
    EXPECT_GT(bench.peak_bytes, 0);
    EXPECT_GT(bench.arena_bytes, 0);
    EXPECT_GT(bench.peak_rss_bytes, bench.arena_bytes);
    EXPECT_NE(memory_line(bench).find("onednn arena"), std::string::npos) << memory_line(bench);
    for (size_t i = 0; i < bench.layers.size(); ++i) EXPECT_TRUE(positive(bench.times[i], bench.layers[i]));
    const auto rows = parse_csv(layers_csv({bench}));
    ASSERT_EQ(rows.size(), bench.layers.size() + 1);
    for (size_t i = 1; i < rows.size(); ++i) {
      ASSERT_EQ(rows[i].size(), 5u);
      EXPECT_EQ(rows[i][2], bench.layers[i - 1]);
      EXPECT_TRUE(is_number(rows[i][3]) && is_number(rows[i][4]));
    }
    const auto summary = parse_csv(summary_csv({bench}));
    ASSERT_EQ(summary.size(), 2u);
    EXPECT_EQ(summary[1].size(), summary[0].size());
    std::istringstream line(summary_line(bench));
    std::string net, size, batch, mode;
    line >> net >> size >> batch >> mode;
    EXPECT_EQ(net + size + batch + mode, std::string("lenet284") + (training ? "train" : "infer"));
  }
}

TEST(Compare, LeNetOnOneDnnAgreesWithTheReferenceLayerByLayer) {
  ProgressLine progress;
  const Comparison c =
      compare_plugins(lenet_step(true), load_plugin("reference"), load_plugin("onednn"), {1, 1}, progress);
  ASSERT_EQ(c.layers.size(), 9u);
  for (const LayerComparison& layer : c.layers) {
    EXPECT_LE(layer.forward_nmse, layer.nmse_bound) << layer.layer;
    EXPECT_LE(layer.backward_nmse, layer.nmse_bound) << layer.layer;
    EXPECT_GT(layer.nmse_bound, 0) << layer.layer;
    for (const LayerTime& t : {layer.a, layer.b}) EXPECT_TRUE(positive(t, layer.layer));
  }
  EXPECT_EQ(c.timed_alone, std::set<std::string>{"reference"});
  const auto rows = parse_csv(comparison_csv(c));
  ASSERT_EQ(rows.size(), c.layers.size() + 3);  // header, layers, total, step
  EXPECT_EQ(rows[0][0], "layer");
  for (size_t i = 1; i < rows.size(); ++i) {
    ASSERT_EQ(rows[i].size(), rows[0].size()) << i;
    for (size_t f = 1; f < 6; ++f) EXPECT_TRUE(is_number(rows[i][f])) << rows[i][f];
    if (i <= c.layers.size()) {
      EXPECT_EQ(rows[i][0], c.layers[i - 1].layer);
    }
  }
  EXPECT_TRUE(well_formed_xml(comparison_svg(c)));
  EXPECT_NE(comparison_table(c).find("softmax_cross_entropy"), std::string::npos);
}

TEST(BarChart, WellFormedEvenWhenEmpty) {
  EXPECT_TRUE(well_formed_xml(bar_chart_svg({"title", "ms", {"a", "b"}, {"forward"}, {}})));
  EXPECT_TRUE(well_formed_xml(bar_chart_svg({"t", "ms", {"a"}, {"f", "b"}, {{"x", {{1, 2}}}}})));
  EXPECT_FALSE(well_formed_xml("<svg><g></svg></g>"));
}

}  // namespace
}  // namespace stratum
