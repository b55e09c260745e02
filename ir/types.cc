#include "ir/types.h"

#include <fmt/format.h>

#include <array>

#include "ir/error.h"

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

int64_t checked_mul(int64_t a, int64_t b, std::string_view what) {
  int64_t product;
  if (__builtin_mul_overflow(a, b, &product)) fail("{} is too large ({} × {} overflows int64)", what, a, b);
  return product;
}

int64_t checked_add(int64_t a, int64_t b, std::string_view what) {
  int64_t sum;
  if (__builtin_add_overflow(a, b, &sum)) fail("{} is too large ({} + {} overflows int64)", what, a, b);
  return sum;
}

int64_t num_elements(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (__builtin_mul_overflow(n, d, &n)) fail("{} has more elements than int64 can count", shape_str(shape));
  }
  return n;
}

std::string shape_str(const Shape& shape) { return fmt::format("[{}]", fmt::join(shape, ",")); }

std::string type_str(const TensorType& type) {
  return fmt::format("{}{}", dtype_name(type.dtype), shape_str(type.shape));
}

void check_type(const TensorType& type) {
  for (int64_t d : type.shape) {
    if (d < 1) fail("{} has a dimension of {}: every dimension must be at least 1", type_str(type), d);
  }
  type.bytes();
}

int64_t TensorType::bytes() const {
  int64_t bytes;
  if (__builtin_mul_overflow(num_elements(), dtype_bytes(dtype), &bytes))
    fail("{} has more bytes than int64 can count", type_str(*this));
  return bytes;
}

}  // namespace stratum
