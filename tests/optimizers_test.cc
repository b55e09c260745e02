// Every optimizer's update over three steps, on the reference backend and on oneDNN, against values from
// PyTorch 1.13 (torch.optim.SGD, Adam, AdamW and nn.utils.clip_grad_norm_, in float64, with the learning
// rate set in each step's param group: 0.1, 0.05, 0.025) or, for SGDW, which PyTorch lacks, from its
// definition by hand (w ← w·(1 - lr·wd) - lr·v, v ← 0.9·v + g). w starts at (0.5, -1, 2); the gradients are
// fed: (0.1, -0.2, 0.3), (-0.4, 0.5, 0.05), (0.2, 0.2, -0.6).
#include <gtest/gtest.h>

#include "backends/executor.h"
#include "backends/loader.h"
#include "backends/reference/interpreter.h"
#include "ir/error.h"
#include "passes/optimizer.h"

namespace stratum {
namespace {

const TensorType kVector{DType::f32, {3}};
const float kStart[3] = {0.5f, -1.0f, 2.0f};
const float kGradients[3][3] = {{0.1f, -0.2f, 0.3f}, {-0.4f, 0.5f, 0.05f}, {0.2f, 0.2f, -0.6f}};
const float kLr[3] = {0.1f, 0.05f, 0.025f};

struct OptimizerCase {
  std::string name;
  OptimizerAttrs optimizer;
  double want[3][3];  // w after each step
};

void PrintTo(const OptimizerCase& c, std::ostream* os) { *os << c.name; }

OptimizerAttrs sgd(double momentum, bool nesterov, double weight_decay, const char* kind = "sgd") {
  return {.kind = kind, .momentum = momentum, .nesterov = nesterov, .weight_decay = weight_decay};
}

const OptimizerCase kCases[] = {
    {"sgd_momentum_l2",
     sgd(0.9, false, 0.1),
     {{0.485, -0.97, 1.95}, {0.495825, -0.97665, 1.91525}, {0.4944566875, -0.982200875, 1.909824375}}},
    {"sgd_nesterov",
     sgd(0.9, true, 0),
     {{0.481, -0.962, 1.943}, {0.51495, -1.0014, 1.9261}, {0.5117275, -1.01738, 1.94812}}},
    {"sgdw",
     sgd(0.9, false, 0.1, "sgdw"),
     {{0.485, -0.97, 1.95}, {0.498075, -0.98115, 1.92425}, {0.4988048125, -0.990897125, 1.927239375}}},
    {"adam_l2",
     {.kind = "adam", .weight_decay = 0.1},
     {{0.40000000667, -0.90000000333, 1.900000002},
      {0.42146707901, -0.91025492988, 1.85369208231},
      {0.42008722582, -0.91748184336, 1.8489298693}}},
    {"adamw",
     {.kind = "adamw", .weight_decay = 0.1},
     {{0.39500001, -0.890000005, 1.8800000033},
      {0.42100018369, -0.90766076758, 1.83143363773},
      {0.42270202473, -0.91896519014, 1.83426383887}}},
    {"sgd_clip_norm_half",
     {.clip_norm = 0.5},
     {{0.49, -0.98, 1.97},
      {0.50556995464, -0.9994624433, 1.96805375567},
      {0.50180106852, -1.00323132943, 1.97936041405}}},
};

class Optimizers : public ::testing::TestWithParam<std::tuple<OptimizerCase, std::string>> {};

TEST_P(Optimizers, ThreeStepsMatchTheirReference) {
  const auto& [c, plugin] = GetParam();
  Graph graph("step");
  Value* w = graph.add_param("w", kVector, Init{});
  add_optimizer_step(graph, {w}, {graph.add_input("g", kVector)}, c.optimizer);
  graph.add_output(graph.updates()[0].value);
  Store state = init_store(graph, 0);
  std::copy(kStart, kStart + 3, state.at("w").f32());
  Executor executor(graph, load_plugin(plugin));
  executor.load_state(state);
  for (int step = 0; step < 3; ++step) {
    Tensor g(kVector);
    std::copy(kGradients[step], kGradients[step] + 3, g.f32());
    executor.run({{"g", g}, {"lr", Tensor(kLr[step])}});
    const Tensor got = executor.save_state().at("w");
    for (int i = 0; i < 3; ++i) EXPECT_NEAR(got.f32()[i], c.want[step][i], 1e-6) << "step " << step + 1;
  }
}

INSTANTIATE_TEST_SUITE_P(EveryOptimizer, Optimizers,
                         ::testing::Combine(::testing::ValuesIn(kCases),
                                            ::testing::Values("reference", "onednn")),
                         [](const auto& info) {
                           return std::get<0>(info.param).name + "_" + std::get<1>(info.param);
                         });

TEST(Optimizers, StateIsNamedAfterTheParamAndUpdated) {
  Graph graph("step");
  Value* w = graph.add_param("w", kVector, Init{});
  add_optimizer_step(graph, {w}, {graph.add_input("g", kVector)}, {.kind = "adam"});
  for (const char* name : {"w.adam_m", "w.adam_v", "adam.step"}) ASSERT_NE(graph.find(name), nullptr) << name;
  EXPECT_EQ(graph.updates().size(), 4u);                         // w, its two moments and the step count
  EXPECT_THROW(add_optimizer_step(graph, {w}, {w}, {}), Error);  // a second %lr
}

// Two gradients, each computed by its own node: every update follows its gradient's node at once (so the
// gradient dies there), unless clipping needs every gradient first.
TEST(Optimizers, EachUpdateFollowsItsGradient) {
  for (const double clip_norm : {0.0, 1.0}) {
    for (const char* kind : {"sgd", "adam"}) {
      Graph graph("step");
      Value *a = graph.add_param("a", kVector, Init{}), *b = graph.add_param("b", kVector, Init{});
      Value* x = graph.add_input("x", kVector);
      Value* grad_a = graph.add_node("relu", {x})->output(0);
      Value* grad_b = graph.add_node("add", {grad_a, x})->output(0);
      add_optimizer_step(graph, {a, b}, {grad_a, grad_b}, {.kind = kind, .clip_norm = clip_norm});
      const int update_a = graph.index_of(graph.find("a")->users().back());
      const int update_b = graph.index_of(graph.find("b")->users().back());
      const std::string name = std::string(kind) + (clip_norm > 0 ? " clipped" : "");
      if (clip_norm > 0) {
        EXPECT_GT(update_a, graph.index_of(grad_b->producer())) << name;
      } else {
        EXPECT_EQ(update_a, graph.index_of(grad_a->producer()) + 1) << name;
        EXPECT_EQ(update_b, graph.index_of(grad_b->producer()) + 1) << name;
      }
    }
  }
}

}  // namespace
}  // namespace stratum
