#include "onnx/test_cases.h"

#include <fstream>
#include <sstream>

#include "backends/executor.h"
#include "backends/loader.h"
#include "ir/error.h"
#include "onnx/import.h"

namespace stratum {

namespace fs = std::filesystem;

namespace {

std::string file_bytes(const fs::path& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) fail("{}: cannot open", path.string());
  std::ostringstream bytes;
  bytes << file.rdbuf();
  return bytes.str();
}

fs::path data_file(const fs::path& data_set, const char* kind, size_t i) {
  return data_set / (kind + std::to_string(i) + ".pb");
}

}  // namespace

onnx::TensorProto read_tensor_file(const fs::path& path) {
  onnx::TensorProto tensor;
  if (!tensor.ParseFromString(file_bytes(path))) fail("{}: not a TensorProto", path.string());
  return tensor;
}

OnnxModel bound_model(const fs::path& dir, const fs::path& data_set) {
  onnx::ModelProto proto;
  if (!proto.ParseFromString(file_bytes(dir / "model.onnx"))) fail("{}: not a model", dir.string());
  onnx::GraphProto& g = *proto.mutable_graph();
  while (g.input_size() > 1) {
    const int i = g.input_size() - 1;
    onnx::TensorProto value = read_tensor_file(data_file(data_set, "input_", i));
    value.set_name(g.input(i).name());
    *g.add_initializer() = value;
    g.mutable_input()->RemoveLast();
  }
  return parse_onnx(proto.SerializeAsString(), (dir / "model.onnx").string());
}

CaseResult run_case(const OnnxModel& model, const fs::path& data_set, const std::string& plugin,
                    double abs_tolerance, double rel_tolerance) {
  Graph graph("onnx_case");
  Layers layers(graph, /*training=*/false);
  std::vector<Value*> inputs;
  std::map<std::string, Tensor> feeds;
  const fs::path first_path = data_file(data_set, "input_", 0);
  const onnx::TensorProto first = fs::exists(first_path) ? read_tensor_file(first_path) : onnx::TensorProto();
  const std::vector<TensorType> types = onnx_input_types(model, first.dims_size() > 0 ? first.dims(0) : 0);
  for (size_t i = 0; i < types.size(); ++i) {
    inputs.push_back(graph.add_input("input" + std::to_string(i), types[i]));
    feeds[inputs.back()->name()] =
        f32_tensor(i == 0 ? first : read_tensor_file(data_file(data_set, "input_", i)));
  }
  Store weights;
  for (Value* out : import_onnx(model, layers, inputs, weights)) graph.add_output(out);
  Executor executor(graph, load_plugin(plugin));
  executor.load_state(weights);
  executor.run(feeds);
  const std::vector<Tensor> outputs = executor.outputs();
  CaseResult result;
  for (size_t i = 0; i < outputs.size(); ++i) {
    const Tensor want = f32_tensor(read_tensor_file(data_file(data_set, "output_", i)));
    if (outputs[i].shape() != want.shape())
      fail("output {} is {}, not {}", i, shape_str(outputs[i].shape()), shape_str(want.shape()));
    for (int64_t k = 0; k < want.size(); ++k) {
      const double diff = std::abs(double(outputs[i].f32()[k]) - want.f32()[k]);
      result.max_abs_diff = std::max(result.max_abs_diff, diff);
      result.max_abs_want = std::max(result.max_abs_want, double(std::abs(want.f32()[k])));
      result.worst = std::max(result.worst, diff / (abs_tolerance + rel_tolerance * std::abs(want.f32()[k])));
    }
  }
  return result;
}

}  // namespace stratum
