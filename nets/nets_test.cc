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
