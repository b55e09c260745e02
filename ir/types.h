// Element types, shapes and tensor types of the IR. The IR is logical: shapes are NCHW, layouts are each
// backend's business.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace stratum {

enum class DType { f32, i32, bf16, f16 };  // f16 is named for later: no backend runs it.

std::string_view dtype_name(DType dtype);
bool parse_dtype(std::string_view name, DType* dtype);
int64_t dtype_bytes(DType dtype);

using Shape = std::vector<int64_t>;

// a*b and a+b, or Error saying `what` is too large when the result overflows int64.
int64_t checked_mul(int64_t a, int64_t b, std::string_view what);
int64_t checked_add(int64_t a, int64_t b, std::string_view what);

// The product of the dims; Error when it overflows int64.
int64_t num_elements(const Shape& shape);
std::string shape_str(const Shape& shape);  // "[2,3]"

struct TensorType {
  DType dtype = DType::f32;
  Shape shape;

  int64_t rank() const { return static_cast<int64_t>(shape.size()); }
  int64_t num_elements() const { return stratum::num_elements(shape); }
  int64_t bytes() const;  // Error when it overflows int64
  bool operator==(const TensorType& other) const { return dtype == other.dtype && shape == other.shape; }
  bool operator!=(const TensorType& other) const { return !(*this == other); }
};

std::string type_str(const TensorType& type);  // "f32[256,1,28,28]", "f32[]" for a scalar

// Error unless every dim is at least 1 (an empty tensor would make means and variances 0/0) and the tensor's
// bytes fit in int64. The graph checks every value it makes.
void check_type(const TensorType& type);

}  // namespace stratum
