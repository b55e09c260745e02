// ONNX's own backend node tests (Debian's libonnx-testdata: a one-node model, its inputs and the expected
// outputs): every one whose op Stratum imports runs on the reference backend and on oneDNN and must give
// ONNX's outputs, or be listed in kSkipped with the reason, which the importer's error must give.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "backends/executor.h"
#include "backends/loader.h"
#include "onnx/import.h"
#include "onnx/importer.h"

namespace stratum {
namespace {

namespace fs = std::filesystem;

constexpr char kNodeTests[] = "/usr/share/libonnx-testdata/data/node";
constexpr double kAbsTolerance = 1e-5, kRelTolerance = 1e-4;  // per element: abs + rel·|expected|

// Each in-scope test Stratum does not run, with (a part of) the importer's error that says why.
const std::map<std::string, std::string> kSkipped = {
    {"test_add_bcast", "Stratum's add takes equal shapes"},
    {"test_add_uint8", "is not a float tensor"},
    {"test_averagepool_1d_default", "is not a 2-D image"},
    {"test_averagepool_2d_ceil", "ceil_mode=1 adds a partial window"},
    {"test_averagepool_2d_same_lower", "differs between the sides"},
    {"test_averagepool_2d_same_upper", "differs between the sides"},
    {"test_averagepool_3d_default", "is not a 2-D image"},
    {"test_batchnorm_epsilon_training_mode", "training_mode=1 is not supported"},
    {"test_batchnorm_example_training_mode", "training_mode=1 is not supported"},
    {"test_dropout_default_mask", "Stratum does not compute it"},
    {"test_dropout_default_mask_ratio", "Stratum does not compute it"},
    {"test_gemm_all_attributes", "transA=1 is not supported"},
    {"test_gemm_transposeA", "transA=1 is not supported"},
    {"test_globalaveragepool", "opset 1 is not supported"},
    {"test_globalaveragepool_precomputed", "opset 1 is not supported"},
    {"test_identity_opt", "is not a float tensor"},
    {"test_identity_sequence", "is not a float tensor"},
    {"test_matmul_3d", "is not a matrix"},
    {"test_matmul_4d", "is not a matrix"},
    {"test_maxpool_1d_default", "is not a 2-D image"},
    {"test_maxpool_2d_ceil", "ceil_mode=1 adds a partial window"},
    {"test_maxpool_2d_dilations", "Stratum's max_pool is undilated"},
    {"test_maxpool_2d_pads", "must be at most half the kernel"},
    {"test_maxpool_2d_same_lower", "differs between the sides"},
    {"test_maxpool_2d_same_upper", "differs between the sides"},
    {"test_maxpool_2d_uint8", "is not a float tensor"},
    {"test_maxpool_3d_default", "is not a 2-D image"},
    {"test_maxpool_with_argmax_2d_precomputed_pads", "Stratum does not compute it"},
    {"test_maxpool_with_argmax_2d_precomputed_strides", "Stratum does not compute it"},
    {"test_reshape_allowzero_reordered", "input 'data': f32[0,3,4] has a dimension of 0"},
    {"test_training_dropout", "training_mode must be false"},
    {"test_training_dropout_default", "training_mode must be false"},
    {"test_training_dropout_default_mask", "Stratum does not compute it"},
    {"test_training_dropout_mask", "Stratum does not compute it"},
    {"test_training_dropout_zero_ratio", "training_mode must be false"},
    {"test_training_dropout_zero_ratio_mask", "Stratum does not compute it"},
};

std::string read_file(const fs::path& path) {
  std::ifstream file(path, std::ios::binary);
  std::ostringstream bytes;
  bytes << file.rdbuf();
  return bytes.str();
}

onnx::TensorProto read_tensor(const fs::path& path) {
  onnx::TensorProto tensor;
  if (!tensor.ParseFromString(read_file(path))) throw Error("cannot parse " + path.string());
  return tensor;
}

bool in_scope(const onnx::ModelProto& model) {
  if (model.graph().node_size() != 1) return false;
  for (const OpImporter& op : op_importers())
    if (model.graph().node(0).op_type() == op.op) return true;
  return false;
}

// The model with its inputs after the first made initializers from the data set: in the models Stratum
// imports, those are weights, shapes and ratios, which it needs as constants.
OnnxModel bound_model(const fs::path& dir, onnx::ModelProto proto, const fs::path& data_set) {
  onnx::GraphProto& g = *proto.mutable_graph();
  while (g.input_size() > 1) {
    const int i = g.input_size() - 1;
    onnx::TensorProto value = read_tensor(data_set / ("input_" + std::to_string(i) + ".pb"));
    value.set_name(g.input(i).name());
    *g.add_initializer() = value;
    g.mutable_input()->RemoveLast();
  }
  return parse_onnx(proto.SerializeAsString(), (dir / "model.onnx").string());
}

// Runs the model on one plugin and returns the largest error relative to the tolerance (≤ 1 passes).
double worst_error(const OnnxModel& model, const fs::path& data_set, const std::string& plugin) {
  Graph graph("node_test");
  Layers layers(graph, /*training=*/false);
  std::vector<Value*> inputs;
  std::map<std::string, Tensor> feeds;
  const std::vector<TensorType> types = onnx_input_types(model);
  for (size_t i = 0; i < types.size(); ++i) {
    inputs.push_back(graph.add_input("input" + std::to_string(i), types[i]));
    feeds[inputs.back()->name()] = f32_tensor(read_tensor(data_set / ("input_" + std::to_string(i) + ".pb")));
  }
  Store weights;
  for (Value* out : import_onnx(model, layers, inputs, weights)) graph.add_output(out);
  Executor executor(graph, load_plugin(plugin));
  executor.load_state(weights);
  executor.run(feeds);
  const std::vector<Tensor> outputs = executor.outputs();
  double worst = 0;
  for (size_t i = 0; i < outputs.size(); ++i) {
    const Tensor want = f32_tensor(read_tensor(data_set / ("output_" + std::to_string(i) + ".pb")));
    if (outputs[i].shape() != want.shape())
      throw Error("output " + std::to_string(i) + " is " + shape_str(outputs[i].shape()) + ", not " +
                  shape_str(want.shape()));
    for (int64_t k = 0; k < want.size(); ++k) {
      const double error = std::abs(double(outputs[i].f32()[k]) - want.f32()[k]);
      worst = std::max(worst, error / (kAbsTolerance + kRelTolerance * std::abs(want.f32()[k])));
    }
  }
  return worst;
}

TEST(OnnxNodeTest, EveryNodeTestOfASupportedOpPassesOrIsSkippedForItsReason) {
  ASSERT_TRUE(fs::is_directory(kNodeTests)) << kNodeTests << " is missing: install libonnx-testdata";
  std::vector<fs::path> dirs(fs::directory_iterator(kNodeTests), fs::directory_iterator{});
  std::sort(dirs.begin(), dirs.end());
  int passed = 0, skipped = 0;
  for (const fs::path& dir : dirs) {
    onnx::ModelProto proto;
    if (!proto.ParseFromString(read_file(dir / "model.onnx")) || !in_scope(proto)) continue;
    const std::string name = dir.filename().string();
    const auto skip = kSkipped.find(name);
    try {
      for (const fs::path& data_set : fs::directory_iterator(dir)) {
        if (!fs::is_directory(data_set)) continue;
        const OnnxModel model = bound_model(dir, proto, data_set);
        for (const char* plugin : {"reference", "onednn"}) {
          const double error = worst_error(model, data_set, plugin);
          EXPECT_LE(error, 1) << name << " on " << plugin << ": off by " << error << " tolerances";
        }
      }
      EXPECT_EQ(skip, kSkipped.end()) << name << " runs, but kSkipped says: " << skip->second;
      std::printf("ran     %-50s %s\n", name.c_str(), proto.graph().node(0).op_type().c_str());
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
