#include "onnx/model.h"

#include <onnx/checker.h>
#include <onnx/defs/tensor_proto_util.h>

#include <cstring>
#include <fstream>
#include <sstream>

#include "ir/error.h"

namespace stratum {

namespace {

void check_opsets(OnnxModel& model) {
  for (const onnx::OperatorSetIdProto& set : model.proto.opset_import()) {
    if (set.domain().empty() || set.domain() == "ai.onnx") {
      model.opset = set.version();
    } else {
      fail("{}: imports the operator set of domain '{}'; Stratum reads only the default ONNX domain",
           model.path, set.domain());
    }
  }
  if (model.opset < kMinOpset || model.opset > kMaxOpset) {
    fail("{}: opset {} is not supported; Stratum imports opsets {} to {}", model.path, model.opset, kMinOpset,
         kMaxOpset);
  }
}

template <typename T>
std::vector<T> values(const onnx::TensorProto& tensor, onnx::TensorProto_DataType type) {
  const std::string name = tensor.name().empty() ? "a constant" : "tensor '" + tensor.name() + "'";
  if (tensor.data_type() != type)
    fail("{} is {}, expected {}", name, onnx_type_name(tensor.data_type()), onnx_type_name(type));
  if (tensor.data_location() == onnx::TensorProto::EXTERNAL)
    fail("{} keeps its data in an external file, which Stratum does not read", name);
  Shape dims(tensor.dims().begin(), tensor.dims().end());
  for (int64_t d : dims)
    if (d < 0) fail("{} has a negative dimension {}", name, d);
  const bool raw = tensor.has_raw_data();
  const size_t stored =
      raw ? tensor.raw_data().size() / sizeof(T)
          : (type == onnx::TensorProto::FLOAT ? tensor.float_data_size() : tensor.int64_data_size());
  const int64_t expected = num_elements(dims);
  if ((raw && tensor.raw_data().size() % sizeof(T) != 0) || int64_t(stored) != expected)
    fail("{} has dims {} ({} elements) but holds {} elements", name, shape_str(dims), expected, stored);
  return onnx::ParseData<T>(&tensor);
}

}  // namespace

std::string onnx_type_name(int32_t type) {
  return onnx::TensorProto_DataType_IsValid(type)
             ? onnx::TensorProto_DataType_Name(static_cast<onnx::TensorProto_DataType>(type))
             : "an unknown type";
}

OnnxModel parse_onnx(const std::string& bytes, const std::string& path) {
  OnnxModel model{path, {}, 0};
  if (!model.proto.ParseFromString(bytes) || !model.proto.has_graph())
    fail("{}: not an ONNX model (truncated, or another format)", path);
  check_opsets(model);
  try {
    onnx::checker::check_model(model.proto);
  } catch (const std::exception& e) {
    fail("{}: onnx::checker rejects the model: {}", path, e.what());
  }
  return model;
}

OnnxModel read_onnx(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) fail("{}: cannot open: {}", path, std::strerror(errno));
  std::ostringstream bytes;
  bytes << file.rdbuf();
  return parse_onnx(bytes.str(), path);
}

Tensor f32_tensor(const onnx::TensorProto& proto) {
  std::vector<float> data = values<float>(proto, onnx::TensorProto::FLOAT);
  Tensor tensor({DType::f32, Shape(proto.dims().begin(), proto.dims().end())});
  std::copy(data.begin(), data.end(), tensor.f32());
  return tensor;
}

std::vector<int64_t> i64_values(const onnx::TensorProto& tensor) {
  return values<int64_t>(tensor, onnx::TensorProto::INT64);
}

}  // namespace stratum
