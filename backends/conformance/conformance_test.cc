#include <gtest/gtest.h>

#include <cstring>
#include <set>

#include "backends/conformance/runner.h"
#include "backends/reference/plugin.h"
#include "ir/op.h"

namespace stratum::conformance {
namespace {

int count(const std::vector<Result>& results, Result::Status status) {
  int n = 0;
  for (const Result& r : results) n += r.status == status;
  return n;
}

TEST(Conformance, TheReferencePassesAgainstItselfAndEveryOpIsCovered) {
  const auto results = run_conformance(reference_plugin(), Mode::kTest);
  EXPECT_EQ(count(results, Result::kPass), static_cast<int>(results.size())) << summary(results, Mode::kTest);
  std::set<std::string> ops;
  for (const Result& r : results) ops.insert(r.op);
  for (const OpDef* op : all_ops())
    EXPECT_TRUE(ops.count(op->name)) << op->name << " has no conformance case";
  const auto grads = run_conformance(reference_plugin(), Mode::kGrad);
  EXPECT_GT(grads.size(), 20u);
  EXPECT_EQ(count(grads, Result::kPass), static_cast<int>(grads.size())) << summary(grads, Mode::kGrad);
}

// Plugins that break the rules, built by changing one function of the reference plugin.
stratum_plugin broken(int (*run)(stratum_program*, void* const*, int32_t)) {
  stratum_plugin plugin = reference_plugin();
  plugin.run = run;
  return plugin;
}

// The number of input args of the cases a broken run sees (its first output follows): set by each test.
int n_inputs = 0;

TEST(Conformance, AWrongResultFails) {
  stratum_plugin plugin = broken([](stratum_program* program, void* const* args, int32_t n_args) {
    const int status = reference_plugin().run(program, args, n_args);
    static_cast<float*>(args[n_inputs])[0] += 0.5f;  // the first output of every case is f32
    return status;
  });
  n_inputs = 2;  // relu_grad(dy, y)
  const auto results = run_conformance(plugin, Mode::kTest, "relu_grad");
  EXPECT_EQ(count(results, Result::kFail), static_cast<int>(results.size())) << summary(results, Mode::kTest);
  EXPECT_NE(summary(results, Mode::kTest).find("nMSE"), std::string::npos);
}

TEST(Conformance, AWriteOutOfBoundsIsCaught) {
  stratum_plugin plugin = broken([](stratum_program* program, void* const* args, int32_t n_args) {
    const int status = reference_plugin().run(program, args, n_args);
    static_cast<char*>(args[n_inputs])[-1] = 0;  // just before the output
    return status;
  });
  n_inputs = 1;  // relu(x)
  const auto results = run_conformance(plugin, Mode::kTest, "relu");
  ASSERT_EQ(count(results, Result::kFail), static_cast<int>(results.size()));
  EXPECT_NE(results[0].message.find("wrote before the bytes of arg 1"), std::string::npos)
      << results[0].message;
}

TEST(Conformance, WritingAnInputIsCaught) {
  stratum_plugin plugin = broken([](stratum_program* program, void* const* args, int32_t n_args) {
    static_cast<float*>(args[0])[0] = 42;
    return reference_plugin().run(program, args, n_args);
  });
  const auto results = run_conformance(plugin, Mode::kTest, "sigmoid");
  ASSERT_EQ(count(results, Result::kFail), static_cast<int>(results.size()));
  EXPECT_NE(results[0].message.find("wrote into input"), std::string::npos) << results[0].message;
}

TEST(Conformance, UnsupportedOpsAreReportedNotFailed) {
  stratum_plugin plugin = reference_plugin();
  plugin.supports = [](const stratum_node* node, const stratum_tensor_desc* values, int32_t n_values) -> int {
    return std::strcmp(node->op, "conv2d") != 0 && reference_plugin().supports(node, values, n_values);
  };
  const auto results = run_conformance(plugin, Mode::kTest, "conv2d");
  EXPECT_EQ(count(results, Result::kUnsupported), static_cast<int>(results.size()));
  const auto grads = run_conformance(plugin, Mode::kGrad, "conv2d");
  EXPECT_EQ(count(grads, Result::kUnsupported), static_cast<int>(grads.size()));
  // conv2d_grad_input's own 2 examples and the first's bf16 variant, and in the gradients of conv2d's 8
  // unfused ones.
  EXPECT_EQ(count(run_conformance(plugin, Mode::kTest, "conv2d_grad_input"), Result::kPass), 11);
}

TEST(Conformance, PerfModeTimesTheForwardOps) {
  const auto results = run_conformance(reference_plugin(), Mode::kPerf, "relu");
  ASSERT_FALSE(results.empty());
  for (const Result& r : results) EXPECT_GT(r.plugin_ms, 0) << r.name;
  EXPECT_NE(summary(results, Mode::kPerf).find("speedup"), std::string::npos);
}

}  // namespace
}  // namespace stratum::conformance
