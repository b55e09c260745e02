// The memory planner on whole training steps: the plan is valid (checked independently) and reuses memory.
#include <gtest/gtest.h>

#include "passes/autodiff.h"
#include "passes/dce.h"
#include "passes/memory_plan.h"
#include "tests/test_nets.h"

namespace stratum {
namespace {

void expect_valid_plan_with_reuse(std::unique_ptr<Graph> graph) {
  build_training_step(*graph);
  DcePass().run(*graph);
  const MemoryPlan plan = plan_memory(*graph);
  check_plan(*graph, plan);
  EXPECT_LT(plan.peak_bytes, plan.total_bytes / 2) << plan_report(*graph, plan);
  EXPECT_FALSE(plan.inplace.empty()) << plan_report(*graph, plan);
}

TEST(MemoryPlanNets, EveryOpTrainingStep) { expect_valid_plan_with_reuse(testing::every_op_net(8)); }

TEST(MemoryPlanNets, ResidualConcatTrainingStep) {
  expect_valid_plan_with_reuse(testing::residual_concat_net(8));
}

TEST(MemoryPlanNets, ForwardGraphs) {
  auto every_op = testing::every_op_net(8);
  check_plan(*every_op, plan_memory(*every_op));
  auto residual = testing::residual_concat_net(8);
  check_plan(*residual, plan_memory(*residual));
}

}  // namespace
}  // namespace stratum
