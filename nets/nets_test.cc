// Every net's output shape and parameter count equal the book's PyTorch models.
#include <gtest/gtest.h>

#include "ir/error.h"
#include "ir/verifier.h"
#include "nets/nets.h"

namespace stratum {
namespace {

int64_t parameter_count(const Graph& graph) {
  int64_t count = 0;
  for (const Value* param : graph.leaves_of(ValueKind::kParam)) count += param->type().num_elements();
  return count;
}

TEST(Nets, ParameterCountsAreTheBooks) {
  const std::map<std::string, int64_t> expected = {
      {"lenet", 61706},       {"bn_lenet", 44878},  {"alexnet", 46764746},
      {"vgg11_4", 43093322},  {"nin", 1992166},     {"googlenet", 5977530},
      {"resnet18", 11178378}, {"densenet", 758226}, {"regnetx32", 179290}};
  for (const auto& [name, count] : expected) {
    auto graph = build_net(find_net(name), 2, true);
    SCOPED_TRACE(name);
    verify_graph(*graph);
    EXPECT_EQ(parameter_count(*graph), count) << name;
    // The logits are the loss's first input: [batch, 10].
    const Node* loss = graph->outputs()[0]->producer();
    EXPECT_EQ(loss->input(0)->type().shape, (Shape{2, 10})) << name;
  }
}

// The output of the node that reads %<layer>.weight.
Shape output_of(const Graph& graph, const std::string& layer) {
  const Value* weight = graph.find(layer + ".weight");
  if (weight == nullptr) throw std::logic_error("no layer " + layer);
  return weight->users().at(0)->output()->type().shape;
}

// The input of the node that reads %<layer>.weight: what the pooling or block before it produced.
Shape input_of(const Graph& graph, const std::string& layer) {
  const Value* weight = graph.find(layer + ".weight");
  if (weight == nullptr) throw std::logic_error("no layer " + layer);
  return weight->users().at(0)->input(0)->type().shape;
}

// The book's shape walk-throughs (at batch 2).
TEST(Nets, LayerShapesAreTheBooks) {
  auto lenet = build_net(find_net("lenet"), 2, true);
  EXPECT_EQ(output_of(*lenet, "conv1"), (Shape{2, 6, 28, 28}));
  EXPECT_EQ(input_of(*lenet, "conv2"), (Shape{2, 6, 14, 14}));
  EXPECT_EQ(output_of(*lenet, "conv2"), (Shape{2, 16, 10, 10}));
  EXPECT_EQ(input_of(*lenet, "fc1"), (Shape{2, 400}));
  EXPECT_EQ(output_of(*lenet, "fc2"), (Shape{2, 84}));

  auto bn_lenet = build_net(find_net("bn_lenet"), 2, true);
  EXPECT_EQ(output_of(*bn_lenet, "conv1"), (Shape{2, 6, 24, 24}));
  EXPECT_EQ(input_of(*bn_lenet, "fc1"), (Shape{2, 256}));

  auto alexnet = build_net(find_net("alexnet"), 2, true);
  EXPECT_EQ(output_of(*alexnet, "conv1"), (Shape{2, 96, 54, 54}));
  EXPECT_EQ(input_of(*alexnet, "conv2"), (Shape{2, 96, 26, 26}));
  EXPECT_EQ(input_of(*alexnet, "conv3"), (Shape{2, 256, 12, 12}));
  EXPECT_EQ(output_of(*alexnet, "conv5"), (Shape{2, 256, 12, 12}));
  EXPECT_EQ(input_of(*alexnet, "fc1"), (Shape{2, 6400}));

  auto vgg = build_net(find_net("vgg11_4"), 2, true);
  EXPECT_EQ(output_of(*vgg, "block1.conv1"), (Shape{2, 16, 224, 224}));
  EXPECT_EQ(input_of(*vgg, "block2.conv1"), (Shape{2, 16, 112, 112}));
  EXPECT_EQ(input_of(*vgg, "block5.conv1"), (Shape{2, 128, 14, 14}));
  EXPECT_EQ(input_of(*vgg, "fc1"), (Shape{2, 6272}));

  auto nin = build_net(find_net("nin"), 2, true);
  EXPECT_EQ(output_of(*nin, "nin1.mlp2"), (Shape{2, 96, 54, 54}));
  EXPECT_EQ(input_of(*nin, "nin2.conv"), (Shape{2, 96, 26, 26}));
  EXPECT_EQ(input_of(*nin, "nin3.conv"), (Shape{2, 256, 12, 12}));
  EXPECT_EQ(output_of(*nin, "nin4.mlp2"), (Shape{2, 10, 5, 5}));

  auto googlenet = build_net(find_net("googlenet"), 2, true);
  EXPECT_EQ(input_of(*googlenet, "b2.conv1"), (Shape{2, 64, 24, 24}));
  EXPECT_EQ(input_of(*googlenet, "b3.inc1.p1"), (Shape{2, 192, 12, 12}));
  EXPECT_EQ(input_of(*googlenet, "b4.inc1.p1"), (Shape{2, 480, 6, 6}));
  EXPECT_EQ(input_of(*googlenet, "b5.inc1.p1"), (Shape{2, 832, 3, 3}));
  EXPECT_EQ(input_of(*googlenet, "fc"), (Shape{2, 1024}));

  auto resnet = build_net(find_net("resnet18"), 2, true);
  EXPECT_EQ(input_of(*resnet, "stage1.block1.conv1"), (Shape{2, 64, 24, 24}));
  EXPECT_EQ(output_of(*resnet, "stage2.block1.conv1"), (Shape{2, 128, 12, 12}));
  EXPECT_EQ(output_of(*resnet, "stage3.block1.shortcut"), (Shape{2, 256, 6, 6}));
  EXPECT_EQ(output_of(*resnet, "stage4.block2.conv2"), (Shape{2, 512, 3, 3}));
  EXPECT_EQ(input_of(*resnet, "fc"), (Shape{2, 512}));

  auto densenet = build_net(find_net("densenet"), 2, true);
  EXPECT_EQ(output_of(*densenet, "stem.conv"), (Shape{2, 64, 48, 48}));
  EXPECT_EQ(output_of(*densenet, "transition1.conv"), (Shape{2, 96, 24, 24}));
  EXPECT_EQ(input_of(*densenet, "dense2.conv1.conv"), (Shape{2, 96, 12, 12}));
  EXPECT_EQ(output_of(*densenet, "transition2.conv"), (Shape{2, 112, 12, 12}));
  EXPECT_EQ(output_of(*densenet, "transition3.conv"), (Shape{2, 120, 6, 6}));
  EXPECT_EQ(input_of(*densenet, "fc"), (Shape{2, 248}));

  auto regnet = build_net(find_net("regnetx32"), 2, true);
  EXPECT_EQ(output_of(*regnet, "stem.conv"), (Shape{2, 32, 48, 48}));
  EXPECT_EQ(output_of(*regnet, "stage1.block1.conv2"), (Shape{2, 32, 24, 24}));
  EXPECT_EQ(output_of(*regnet, "stage2.block6.conv3"), (Shape{2, 80, 12, 12}));
  EXPECT_EQ(input_of(*regnet, "fc"), (Shape{2, 80}));
}

TEST(Nets, UnknownNamesListTheNets) {
  try {
    find_net("resnet-50");
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("the nets are: lenet, bn_lenet, alexnet"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace stratum
