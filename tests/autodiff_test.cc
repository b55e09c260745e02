// Autodiff of whole nets with fan-out against central finite differences of the loss, on the reference
// backend; and the training step's updates.
#include <gtest/gtest.h>

#include <cmath>

#include "backends/random_feeds.h"
#include "backends/reference/interpreter.h"
#include "ir/error.h"
#include "passes/autodiff.h"
#include "tests/test_nets.h"

namespace stratum {
namespace {

using Feeds = std::map<std::string, Tensor>;

// Labels below every test net's class count.
constexpr int32_t kClasses = 3;

double loss_of(const Graph& forward, const Feeds& feeds, Store store) {
  Interpreter interpreter(forward);
  interpreter.run(feeds, store);
  return interpreter.outputs()[0].f32()[0];
}

// Every parameter gradient of the training step against (L(p+h) - L(p-h)) / 2h of the forward graph.
// Where the one-sided differences disagree, a ReLU or max-pool kink lies within h of p and the central
// difference means nothing there: such elements are skipped, and must be few.
void expect_gradients_match_finite_differences(std::unique_ptr<Graph> (*make)(int64_t)) {
  auto forward = make(4);
  auto step = make(4);
  build_training_step(*step);
  const Store store = init_store(*forward, 1);
  const Feeds feeds = random_feeds(*forward, 2, kClasses);

  Store step_store = store;
  Interpreter interpreter(*step);
  Feeds step_feeds = feeds;
  step_feeds["lr"] = Tensor(0.1f);
  interpreter.run(step_feeds, step_store);

  const double h = 1e-3, base = loss_of(*forward, feeds, store);
  int checked = 0, kinks = 0;
  for (const Value* param : forward->leaves_of(ValueKind::kParam)) {
    const Tensor& grad = interpreter.value(step->find(param->name() + ".grad"));
    for (int64_t i = 0; i < grad.size(); ++i) {
      Store plus = store, minus = store;
      plus[param->name()].f32()[i] += h;
      minus[param->name()].f32()[i] -= h;
      const double up = (loss_of(*forward, feeds, plus) - base) / h;
      const double down = (base - loss_of(*forward, feeds, minus)) / h;
      const double numeric = (up + down) / 2, tolerance = 1e-3 + 1e-2 * std::abs(numeric);
      ++checked;
      if (std::abs(up - down) > tolerance) {
        ++kinks;
        continue;
      }
      EXPECT_NEAR(grad.f32()[i], numeric, tolerance) << param->name() << "[" << i << "]";
    }
  }
  EXPECT_GT(checked, 100);
  EXPECT_LT(kinks, checked / 20) << kinks << " of " << checked << " elements sit on a kink";
}

TEST(Autodiff, ResidualAndConcatNetMatchesFiniteDifferences) {
  expect_gradients_match_finite_differences(testing::residual_concat_net);
}

TEST(Autodiff, EveryOpNetMatchesFiniteDifferences) {
  expect_gradients_match_finite_differences([](int64_t batch) { return testing::every_op_net(batch); });
}

TEST(Autodiff, TrainingStepUpdatesEveryParamBySgd) {
  auto step = testing::residual_concat_net(4);
  build_training_step(*step);
  Store store = init_store(*step, 3);
  const Store before = store;
  Interpreter interpreter(*step);
  Feeds feeds = random_feeds(*step, 4, kClasses);
  feeds["lr"] = Tensor(0.5f);
  interpreter.run(feeds, store);
  for (const Value* param : step->leaves_of(ValueKind::kParam)) {
    const Tensor& grad = interpreter.value(step->find(param->name() + ".grad"));
    for (int64_t i = 0; i < grad.size(); ++i) {
      EXPECT_FLOAT_EQ(store.at(param->name()).f32()[i],
                      before.at(param->name()).f32()[i] - 0.5f * grad.f32()[i]);
    }
  }
}

TEST(Autodiff, ErrorsNameTheProblem) {
  auto graph = testing::residual_concat_net();
  EXPECT_THROW(build_training_step(*graph, {}, "correct"), Error);  // an i32 count is no loss
  auto unused = testing::residual_concat_net();
  unused->add_param("orphan", {DType::f32, {3}}, {Init::kZeros});
  try {
    build_training_step(*unused);
    ADD_FAILURE() << "no error for a param that does not affect the loss";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("%orphan does not affect %loss"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace stratum
