#include "backends/reference/interpreter.h"

#include <gtest/gtest.h>

#include <cmath>

#include "backends/reference/test_util.h"
#include "backends/testing.h"
#include "ir/error.h"

namespace stratum {
namespace {

using testing::error_of;
using testing::expect_values;
using testing::f32_tensor;

TEST(InitStore, FillsParamsAndStateFromTheirInits) {
  Graph graph;
  graph.add_input("x", {DType::f32, {2}});
  graph.add_param("w", {DType::f32, {20, 30, 2, 2}}, {Init::kXavierUniform});
  graph.add_param("u", {DType::f32, {1000}}, {Init::kUniform, 0.25});
  graph.add_state("ones", {DType::f32, {3}}, {Init::kOnes});
  graph.add_state("zeros", {DType::f32, {3}}, {Init::kZeros});
  Store store = init_store(graph, 42);
  ASSERT_EQ(store.size(), 4u);
  EXPECT_EQ(store.count("x"), 0u);
  expect_values(store["ones"], {1, 1, 1});
  expect_values(store["zeros"], {0, 0, 0});

  // Each draw stays within its bound and comes close to it.
  auto max_abs = [](const Tensor& t) {
    double m = 0;
    for (int64_t i = 0; i < t.size(); ++i) m = std::max(m, double(std::abs(t.f32()[i])));
    return m;
  };
  const double xavier = std::sqrt(6.0 / (30 * 4 + 20 * 4));
  EXPECT_LE(max_abs(store["w"]), xavier);
  EXPECT_GT(max_abs(store["w"]), 0.95 * xavier);
  EXPECT_LE(max_abs(store["u"]), 0.25);
  EXPECT_GT(max_abs(store["u"]), 0.24);

  EXPECT_EQ(testing::values(init_store(graph, 42)["w"]), testing::values(store["w"]));
  EXPECT_NE(testing::values(init_store(graph, 43)["w"]), testing::values(store["w"]));
}

TEST(InitStore, XavierNeedsRankTwo) {
  Graph graph;
  graph.add_param("b", {DType::f32, {4}}, {Init::kXavierUniform});
  EXPECT_NE(error_of([&] { init_store(graph, 1); }).find("%b"), std::string::npos);
}

// w <- w - 0.5·(w + x): one SGD step on a param, fed input x, with the sum as an output.
struct StepGraph {
  StepGraph() {
    Value* x = graph.add_input("x", {DType::f32, {2}});
    Value* w = graph.add_param("w", {DType::f32, {2}}, {Init::kOnes});
    sum = graph.add_node("add", {w, x})->output(0);
    graph.add_output(sum);
    Value* lr = graph.add_node("fill", {}, {{"value", 0.5}})->output(0);
    graph.add_update(w, graph.add_node("sgd_update", {w, sum, lr})->output(0));
  }
  Graph graph;
  Value* sum;
};

TEST(Interpreter, RunsNodesAndAppliesUpdates) {
  StepGraph step;
  Store store = init_store(step.graph, 0);
  Interpreter interpreter(step.graph);
  interpreter.run({{"x", f32_tensor({2}, {1, 3})}}, store);
  ASSERT_EQ(interpreter.outputs().size(), 1u);
  expect_values(interpreter.outputs()[0], {2, 4});
  expect_values(interpreter.value(step.sum), {2, 4});
  expect_values(interpreter.value(step.graph.find("x")), {1, 3});
  expect_values(store["w"], {0, -1});
  interpreter.run({{"x", f32_tensor({2}, {0, 0})}}, store);
  expect_values(store["w"], {0, -0.5});
}

TEST(Interpreter, MissingOrMistypedLeavesAreNamed) {
  StepGraph step;
  Interpreter interpreter(step.graph);
  Store store = init_store(step.graph, 0);
  EXPECT_NE(error_of([&] { interpreter.run({}, store); }).find("input %x is missing"), std::string::npos);
  EXPECT_NE(error_of([&] {
              interpreter.run({{"x", f32_tensor({3}, {1, 2, 3})}}, store);
            }).find("input %x must be f32[2]"),
            std::string::npos);
  Store empty;
  EXPECT_NE(error_of([&] {
              interpreter.run({{"x", f32_tensor({2}, {1, 2})}}, empty);
            }).find("param %w is missing"),
            std::string::npos);
}

TEST(Interpreter, KernelErrorsNameTheNode) {
  Graph graph;
  Value* logits = graph.add_input("logits", {DType::f32, {1, 2}});
  Value* labels = graph.add_input("labels", {DType::i32, {1}});
  graph.add_node("softmax_cross_entropy", {logits, labels}, {}, {"loss", "correct"});
  Tensor bad({DType::i32, {1}});
  bad.i32()[0] = 2;
  Interpreter interpreter(graph);
  Store store;
  const std::string message = error_of([&] {
    interpreter.run({{"logits", Tensor({DType::f32, {1, 2}})}, {"labels", bad}}, store);
  });
  EXPECT_NE(message.find("softmax_cross_entropy -> %loss: row 0 has label 2"), std::string::npos) << message;
}

}  // namespace
}  // namespace stratum
