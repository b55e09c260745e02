// ONNX's own backend node tests (Debian's libonnx-testdata: a one-node model, its inputs and the expected
// outputs): every one whose op Stratum imports runs on the reference backend and on oneDNN and must give
// ONNX's outputs, or be listed in kSkipped with the reason, which the importer's error must give.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "ir/error.h"
#include "onnx/importer.h"
#include "onnx/test_cases.h"

namespace stratum {
namespace {

namespace fs = std::filesystem;

constexpr char kNodeTests[] = "/usr/share/libonnx-testdata/data/node";
constexpr double kAbsTolerance = 1e-5, kRelTolerance = 1e-4;  // per element: abs + rel·|expected|

// Each in-scope test Stratum does not run, with (a part of) the importer's error that says why.
const std::map<std::string, std::string> kSkipped = {
    {"test_add_bcast", "Stratum's add takes equal shapes"},
    {"test_add_uint8", "is UINT8, not FLOAT"},
    {"test_averagepool_1d_default", "is not a 2-D image"},
    {"test_averagepool_2d_ceil", "ceil_mode=1 adds a partial window"},
    {"test_averagepool_2d_pads", "must be at most half the kernel"},
    {"test_averagepool_2d_pads_count_include_pad", "must be at most half the kernel"},
    {"test_averagepool_2d_same_lower", "differs between the sides"},
    {"test_averagepool_2d_same_upper", "differs between the sides"},
    {"test_averagepool_3d_default", "is not a 2-D image"},
    {"test_batchnorm_epsilon_training_mode", "training_mode=1 is not supported"},
    {"test_batchnorm_example_training_mode", "training_mode=1 is not supported"},
    {"test_constant_pad", "are not all 0"},
    {"test_dropout_default_mask", "Stratum does not compute it"},
    {"test_dropout_default_mask_ratio", "Stratum does not compute it"},
    {"test_edge_pad", "is INT32, not FLOAT"},
    {"test_gemm_all_attributes", "transA=1 is not supported"},
    {"test_gemm_transposeA", "transA=1 is not supported"},
    {"test_globalaveragepool", "opset 1 is not supported"},
    {"test_globalaveragepool_precomputed", "opset 1 is not supported"},
    {"test_identity_opt", "is not a tensor"},
    {"test_identity_sequence", "is not a tensor"},
    {"test_matmul_3d", "is not a matrix"},
    {"test_matmul_4d", "is not a matrix"},
    {"test_maxpool_1d_default", "is not a 2-D image"},
    {"test_maxpool_2d_ceil", "ceil_mode=1 adds a partial window"},
    {"test_maxpool_2d_dilations", "Stratum's max_pool is undilated"},
    {"test_maxpool_2d_pads", "must be at most half the kernel"},
    {"test_maxpool_2d_same_lower", "differs between the sides"},
    {"test_maxpool_2d_same_upper", "differs between the sides"},
    {"test_maxpool_2d_uint8", "is UINT8, not FLOAT"},
    {"test_maxpool_3d_default", "is not a 2-D image"},
    {"test_maxpool_with_argmax_2d_precomputed_pads", "Stratum does not compute it"},
    {"test_maxpool_with_argmax_2d_precomputed_strides", "Stratum does not compute it"},
    {"test_reflect_pad", "is INT32, not FLOAT"},
    {"test_reshape_allowzero_reordered", "input 'data': f32[0,3,4] has a dimension of 0"},
    {"test_slice_neg_steps", "Stratum slices at step 1"},
    {"test_slice_start_out_of_bounds", "Stratum has no empty tensors"},
    {"test_training_dropout", "training_mode must be false"},
    {"test_training_dropout_default", "training_mode must be false"},
    {"test_training_dropout_default_mask", "Stratum does not compute it"},
    {"test_training_dropout_mask", "Stratum does not compute it"},
    {"test_training_dropout_zero_ratio", "training_mode must be false"},
    {"test_training_dropout_zero_ratio_mask", "Stratum does not compute it"},
};

bool in_scope(const fs::path& dir) {
  onnx::ModelProto model;
  std::ifstream file(dir / "model.onnx", std::ios::binary);
  if (!model.ParseFromIstream(&file) || model.graph().node_size() != 1) return false;
  for (const OpImporter& op : op_importers())
    if (model.graph().node(0).op_type() == op.op) return true;
  return false;
}

TEST(OnnxNodeTest, EveryNodeTestOfASupportedOpPassesOrIsSkippedForItsReason) {
  ASSERT_TRUE(fs::is_directory(kNodeTests)) << kNodeTests << " is missing: install libonnx-testdata";
  std::vector<fs::path> dirs(fs::directory_iterator(kNodeTests), fs::directory_iterator{});
  std::sort(dirs.begin(), dirs.end());
  int passed = 0, skipped = 0;
  for (const fs::path& dir : dirs) {
    if (!in_scope(dir)) continue;
    const std::string name = dir.filename().string();
    const auto skip = kSkipped.find(name);
    try {
      for (const fs::path& data_set : fs::directory_iterator(dir)) {
        if (!fs::is_directory(data_set)) continue;
        const OnnxModel model = bound_model(dir, data_set);
        for (const char* plugin : {"reference", "onednn"}) {
          const CaseResult r = run_case(model, data_set, plugin, kAbsTolerance, kRelTolerance);
          EXPECT_LE(r.worst, 1) << name << " on " << plugin << ": off by " << r.max_abs_diff;
        }
      }
      EXPECT_EQ(skip, kSkipped.end()) << name << " runs, but kSkipped says: " << skip->second;
      std::printf("ran     %s\n", name.c_str());
      ++passed;
    } catch (const Error& e) {
      if (skip == kSkipped.end()) {
        ADD_FAILURE() << name << " fails: " << e.what();
        continue;
      }
      EXPECT_NE(std::string(e.what()).find(skip->second), std::string::npos)
          << name << ": expected \"" << skip->second << "\" in: " << e.what();
      std::printf("skipped %-50s %s\n", name.c_str(), e.what());
      ++skipped;
    }
  }
  std::printf("%d node tests ran on reference and onednn, %d skipped\n", passed, skipped);
  EXPECT_EQ(skipped, int(kSkipped.size())) << "a test in kSkipped is no longer in the test data";
  EXPECT_GT(passed, 60);
}

}  // namespace
}  // namespace stratum
