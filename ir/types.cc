#include "ir/types.h"

#include <fmt/format.h>

#include <array>

namespace stratum {

namespace {
constexpr std::array<std::string_view, 4> kNames = {"f32", "i32", "bf16", "f16"};
}

std::string_view dtype_name(DType dtype) { return kNames[static_cast<int>(dtype)]; }

bool parse_dtype(std::string_view name, DType* dtype) {
  for (size_t i = 0; i < kNames.size(); ++i) {
    if (kNames[i] == name) {
      *dtype = static_cast<DType>(i);
      return true;
    }
  }
  return false;
}

int64_t dtype_bytes(DType dtype) { return dtype == DType::bf16 || dtype == DType::f16 ? 2 : 4; }

int64_t num_elements(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::string shape_str(const Shape& shape) { return fmt::format("[{}]", fmt::join(shape, ",")); }

std::string type_str(const TensorType& type) {
  return fmt::format("{}{}", dtype_name(type.dtype), shape_str(type.shape));
}

}  // namespace stratum
