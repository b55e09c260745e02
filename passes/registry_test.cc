#include "passes/registry.h"

#include <gtest/gtest.h>

#include "passes/pass.h"
#include "passes/test_graphs.h"

namespace stratum {
namespace {

TEST(RegistryTest, RegistersEveryPassUnderItsOwnName) {
  register_all_passes();
  register_all_passes();  // a second call is harmless
  EXPECT_EQ(registered_passes(),
            (std::vector<std::string>{"autodiff", "bf16", "dce", "fold_bn", "fuse_concat_bn", "fuse_conv_bn",
                                      "fuse_pool_sigmoid_grad", "fuse_relu", "fuse_residual",
                                      "merge_pointwise", "plan", "pool_first", "recompute_bn_relu"}));
  for (const std::string& name : registered_passes()) EXPECT_EQ(make_pass(name)->name(), name);
}

TEST(RegistryTest, AutodiffTakesTheOptimizerAndLoss) {
  register_all_passes();
  EXPECT_EQ(make_pass("autodiff(optimizer=adamw,weight_decay=0.01,loss=loss)")->name(), "autodiff");
  EXPECT_EQ(error_message([] { make_pass("autodiff(momentum=1.5)"); }),
            "pass autodiff: momentum must be in [0,1), got 1.5");
  EXPECT_EQ(error_message([] { make_pass("autodiff(optimizer=lbfgs)"); }),
            "pass autodiff: optimizer must be sgd, sgdw, adam or adamw, got 'lbfgs'");
  EXPECT_EQ(error_message([] { make_pass("autodiff(lr=0.9)"); }),
            "pass autodiff: unknown option 'lr' (known options: optimizer, momentum, nesterov, weight_decay, "
            "clip_norm, loss)");
}

TEST(RegistryTest, BuiltInPassesTakeNoOptions) {
  register_all_passes();
  EXPECT_EQ(error_message([] { make_pass("plan(verbose=1)"); }),
            "pass plan: unknown option 'verbose' (known options: none)");
}

}  // namespace
}  // namespace stratum
