// ONNX files as Stratum reads them: parsed and checked with ONNX's own library (Debian's libonnx), and their
// tensors as host tensors.
#pragma once

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <string>
#include <vector>

#include "backends/tensor.h"

namespace stratum {

// The opsets of the default ONNX domain that Stratum imports.
constexpr int64_t kMinOpset = 9, kMaxOpset = 18;

struct OnnxModel {
  std::string path;  // names the file in errors
  onnx::ModelProto proto;
  int64_t opset = 0;  // of the default domain
};

// Reads an ONNX file. Error naming the file when it is missing, not an ONNX model (truncated, another
// format), rejected by onnx::checker, or imports an opset outside [kMinOpset, kMaxOpset] or another domain.
// (ONNX's shape inference runs after an import, import.h: Debian's libonnx 1.12 crashes on some malformed
// convolutions that Stratum's own checks reject first.)
OnnxModel read_onnx(const std::string& path);
// The same from the file's bytes; `path` names them in errors.
OnnxModel parse_onnx(const std::string& bytes, const std::string& path);

// An element type's name ("FLOAT", "INT64").
std::string onnx_type_name(int32_t type);

// A float tensor's elements as an f32 Tensor; Error naming the tensor when it has another type, external
// data, or a number of elements its dims do not give.
Tensor f32_tensor(const onnx::TensorProto& tensor);
// An int64 tensor's elements (a shape, an axis list); Error as for f32_tensor.
std::vector<int64_t> i64_values(const onnx::TensorProto& tensor);

}  // namespace stratum
