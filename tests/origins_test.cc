// Every node of every built-in net's training step and inference graph says which layer it came from
// (Node::origin) and whether it is backward, unfused and fused, and the text form keeps both.
#include <gtest/gtest.h>

#include <map>

#include "ir/parser.h"
#include "ir/printer.h"
#include "nets/nets.h"
#include "passes/autodiff.h"
#include "passes/dce.h"
#include "passes/fusion.h"

namespace stratum {
namespace {

constexpr int64_t kBatch = 2, kSize = 96;

// Every node has an origin; those autodiff appended, marked backward, follow the forward (the loss's among
// it); the text form keeps both.
void expect_every_origin(const Graph& graph, bool training, const std::string& what) {
  bool backward = false;  // the node before's
  for (const auto& node : graph.nodes()) {
    EXPECT_FALSE(node->origin().empty()) << what << ": " << node->label();
    EXPECT_TRUE(node->backward() || !backward)
        << what << ": forward " << node->label() << " after the backward";
    backward = node->backward();
  }
  EXPECT_EQ(backward, training) << what << ": the last node";
  EXPECT_FALSE(graph.find("loss")->producer()->backward()) << what;
  const std::string text = print_graph(graph);
  EXPECT_EQ(print_graph(*parse_graph(text)), text) << what;
}

TEST(Origins, EveryNodeOfEveryNetHasOneUnfusedAndFused) {
  for (const NetDef& net : all_nets()) {
    for (bool training : {true, false}) {
      auto graph = build_net(net, kBatch, training, kSize);
      if (training) build_training_step(*graph);
      DcePass().run(*graph);
      const std::string what = net.name + (training ? " training step" : " inference");
      expect_every_origin(*graph, training, what);
      fusion_manager(training).run(*graph);
      expect_every_origin(*graph, training, what + ", fused");
    }
  }
}

// A layer's activation, its backward and its params' updates have the layer's origin; the seed of the
// gradient has the loss's, the reshape of flatten's gradient flatten's.
TEST(Origins, LeNetBackwardNodesHaveTheirForwardLayers) {
  auto graph = build_net(find_net("lenet"), kBatch, /*training=*/true);
  build_training_step(*graph);
  std::vector<std::string> backward_of;  // the sigmoids' and avg pools' gradients, in order
  const std::map<std::string, std::string> expected = {
      {"fill", "softmax_cross_entropy"},
      {"softmax_cross_entropy_grad", "softmax_cross_entropy"},
      {"reshape", "flatten"}};
  for (const auto& node : graph->nodes()) {
    const std::string &op = node->op_name(), &origin = node->origin();
    if (op == "avg_pool_grad" || op == "sigmoid_grad") backward_of.push_back(origin);
    if (op == "sgd_update") {
      EXPECT_EQ(node->input(0)->name().rfind(origin + ".", 0), 0u) << origin;
    } else if (op == "conv2d_grad_weight" && node->input(1)->name() == "x") {
      EXPECT_EQ(origin, "conv1");
    } else if (expected.count(op)) {
      EXPECT_EQ(origin, expected.at(op)) << op;
    }
  }
  EXPECT_EQ(backward_of,
            (std::vector<std::string>{"fc2", "fc1", "avg_pool2", "conv2", "avg_pool1", "conv1"}));
}

// A conv and its batch norm fused into conv_bn, and its backward into conv_bn_grad, stand for both layers.
TEST(Origins, FusedConvBatchNormHasBothLayers) {
  auto graph = build_net(find_net("resnet18"), kBatch, /*training=*/true, kSize);
  build_training_step(*graph);
  fusion_manager(/*training=*/true).run(*graph);
  int fused = 0;
  for (const auto& node : graph->nodes()) {
    if (node->op_name() != "conv_bn" && node->op_name() != "conv_bn_grad") continue;
    const std::string& w = node->input(node->op_name() == "conv_bn" ? 1 : 2)->name();  // %<conv>.weight
    const std::string conv = w.substr(0, w.rfind('.'));
    EXPECT_EQ(node->origin().rfind(conv + "+", 0), 0u) << node->label() << " @" << node->origin();
    ++fused;
  }
  EXPECT_EQ(fused, 2 * 17);
}

}  // namespace
}  // namespace stratum
