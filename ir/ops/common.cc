#include "ir/ops/common.h"

namespace stratum::ops {

void expect_rank(const TensorType& type, int64_t rank, const char* what) {
  if (type.rank() != rank) fail("{} must have rank {}, got {}", what, rank, type_str(type));
}

void expect_dtype(const TensorType& type, DType dtype, const char* what) {
  if (type.dtype != dtype) fail("{} must be {}, got {}", what, dtype_name(dtype), type_str(type));
}

void expect_float(const TensorType& type, const char* what) {
  if (type.dtype != DType::f32 && type.dtype != DType::bf16)
    fail("{} must be f32 or bf16, got {}", what, type_str(type));
}

void expect_ints(const OpCall& call, const std::string& attr, size_t count, int64_t min) {
  const Ints& values = call.attr_ints(attr);
  if (values.size() != count) fail("{} must have {} values, got {}", attr, count, values.size());
  for (int64_t v : values) {
    if (v < min) fail("{} must be at least {}, got {}", attr, min, attr_str(values));
  }
}

void expect_same_type(const TensorType& a, const TensorType& b, const char* what) {
  if (a != b) fail("{} must have the same type, got {} and {}", what, type_str(a), type_str(b));
}

Value* emit(Graph& graph, std::string_view op, std::vector<Value*> inputs, Attrs attrs) {
  return graph.add_node(op, std::move(inputs), std::move(attrs))->output(0);
}

Attrs with(const Attrs& attrs, const Attrs& extra) {
  Attrs result = attrs;
  for (const auto& [name, value] : extra) result[name] = value;
  return result;
}

}  // namespace stratum::ops
