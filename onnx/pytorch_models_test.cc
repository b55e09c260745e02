// Nets exported from PyTorch (bench/torch_nets.py --export) give PyTorch's logits on the reference backend
// and on oneDNN. LeNet and BN-LeNet at opsets 13 and 17 are committed (onnx/testdata/); more come from the
// folder $STRATUM_ONNX_MODELS names (bazel test --test_env=STRATUM_ONNX_MODELS=DIR), e.g. every net.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "ir/error.h"
#include "onnx/test_cases.h"

namespace stratum {
namespace {

namespace fs = std::filesystem;

// Per logit: |Stratum - PyTorch| ≤ abs + rel·|PyTorch|. Both sum in float, in different orders.
constexpr double kAbsTolerance = 1e-4, kRelTolerance = 1e-4;

std::vector<fs::path> model_dirs() {
  std::vector<fs::path> dirs;
  for (const char* root :
       std::initializer_list<const char*>{"onnx/testdata", std::getenv("STRATUM_ONNX_MODELS")}) {
    if (root == nullptr) continue;
    for (const fs::path& dir : fs::directory_iterator(root))
      if (fs::exists(dir / "model.onnx")) dirs.push_back(dir);
  }
  std::sort(dirs.begin(), dirs.end());
  return dirs;
}

TEST(PyTorchModelsTest, ImportedNetsGivePyTorchsLogits) {
  const std::vector<fs::path> dirs = model_dirs();
  ASSERT_GE(dirs.size(), 4u);
  for (const fs::path& dir : dirs) {
    const fs::path data_set = dir / "test_data_set_0";
    for (const char* plugin : {"reference", "onednn"}) {
      try {
        const CaseResult r =
            run_case(bound_model(dir, data_set), data_set, plugin, kAbsTolerance, kRelTolerance);
        std::printf("%s on %s: max |Stratum - PyTorch| = %.3g (largest |logit| %.3g)\n", dir.c_str(), plugin,
                    r.max_abs_diff, r.max_abs_want);
        EXPECT_LE(r.worst, 1) << dir << " on " << plugin << ": max abs difference " << r.max_abs_diff;
      } catch (const Error& e) {
        ADD_FAILURE() << dir << " on " << plugin << ": " << e.what();
      }
    }
  }
}

}  // namespace
}  // namespace stratum
