#include "passes/bf16.h"

#include <gtest/gtest.h>

#include "passes/autodiff.h"
#include "passes/test_graphs.h"

namespace stratum {
namespace {

bool computes_in_bf16(const std::string& op) { return op != "softmax_cross_entropy" && op != "softmax"; }

int count_op(const Graph& graph, const std::string& op) {
  int n = 0;
  for (const auto& node : graph.nodes()) n += node->op_name() == op;
  return n;
}

// Every float input of rank 2 or more of a bf16 op is bf16, of the others f32; params, outputs and updates
// stay f32; one cast per weight, one for x and one back to f32 (the loss's logits, or the output %out).
TEST(Bf16Pass, CastsActivationsAndWeightsOfBf16OpsOnly) {
  for (auto& graph : all_test_graphs()) {
    if (graph->name() == "sgd_step") continue;  // has a backward: below
    const size_t weights = std::count_if(graph->leaves().begin(), graph->leaves().end(), [](Value* v) {
      return v->kind() == ValueKind::kParam && v->type().rank() >= 2;
    });
    ASSERT_TRUE(Bf16Pass().run(*graph)) << graph->name();
    for (const auto& node : graph->nodes()) {
      if (node->op_name() == "cast") continue;
      for (const Value* in : node->inputs()) {
        if (in->type().dtype == DType::i32) continue;
        const bool bf16 = computes_in_bf16(node->op_name()) && in->type().rank() >= 2;
        EXPECT_EQ(in->type().dtype, bf16 ? DType::bf16 : DType::f32)
            << graph->name() << ": " << node->label() << " reads " << type_str(in->type());
      }
    }
    for (const Value* leaf : graph->leaves()) EXPECT_NE(leaf->type().dtype, DType::bf16);
    for (const Value* out : graph->outputs()) EXPECT_EQ(out->type().dtype, DType::f32) << out->name();
    for (const Update& update : graph->updates()) EXPECT_EQ(update.value->type().dtype, DType::f32);
    EXPECT_EQ(count_op(*graph, "cast"), static_cast<int>(weights) + 2) << graph->name();
  }
}

TEST(Bf16Pass, KeepsNamesOnTheF32Values) {
  auto graph = batch_norm_graph();
  Bf16Pass().run(*graph);
  ASSERT_NE(graph->find("out"), nullptr);
  EXPECT_EQ(graph->find("out")->type().dtype, DType::f32);
  EXPECT_EQ(graph->find("out")->producer()->op_name(), "cast");
  EXPECT_EQ(graph->outputs()[0], graph->find("out"));
}

// After the pass, autodiff gives every param an f32 gradient through the casts' backward.
TEST(Bf16Pass, TrainingStepUpdatesF32Params) {
  auto graph = conv_chain_graph();
  Bf16Pass().run(*graph);
  build_training_step(*graph);
  EXPECT_EQ(graph->updates().size(), 3u);
  for (const Update& update : graph->updates()) {
    EXPECT_EQ(update.value->type(), update.target->type());
    EXPECT_EQ(update.value->producer()->op_name(), "sgd_update");
    const Value* grad = update.value->producer()->input(1);
    EXPECT_EQ(grad->producer()->op_name(), "cast") << update.target->name();
  }
  EXPECT_GT(count_op(*graph, "conv2d_grad_weight"), 0);
}

TEST(Bf16Pass, RefusesABackward) {
  auto graph = conv_chain_graph();
  build_training_step(*graph);
  EXPECT_NE(error_message([&] { Bf16Pass().run(*graph); }).find("before autodiff"), std::string::npos);
}

}  // namespace
}  // namespace stratum
