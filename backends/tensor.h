// A host tensor: a typed, zero-initialised, contiguous (row-major) buffer. Only f32 and i32 have host
// storage; bf16 and f16 are rejected with an Error.
#pragma once

#include <cstdint>
#include <variant>
#include <vector>

#include "ir/types.h"

namespace stratum {

class Tensor {
 public:
  Tensor() = default;  // the f32 scalar 0
  explicit Tensor(TensorType type);
  explicit Tensor(float scalar) { f32()[0] = scalar; }  // an f32[] (a learning rate)

  const TensorType& type() const { return type_; }
  const Shape& shape() const { return type_.shape; }
  int64_t size() const { return type_.num_elements(); }

  // The elements; throw Error when the tensor has the other dtype.
  float* f32();
  const float* f32() const;
  int32_t* i32();
  const int32_t* i32() const;
  // The raw bytes, whatever the dtype: type().bytes() of them.
  void* data();
  const void* data() const;

 private:
  TensorType type_;
  std::variant<std::vector<float>, std::vector<int32_t>> data_ = std::vector<float>(1);
};

// Whether each of the `count` floats at `data` is finite (no NaN or infinity); fast enough to run over
// every param after every step.
bool all_finite(const float* data, size_t count);

// How far `got` is from `want` (f32 tensors of one size): Σ(got - want)² / Σwant², the denominator at least
// `floor_ms` per element, for values that are zero up to rounding (a bias's gradient under batch norm).
// Infinite where got has a NaN; for i32 tensors, 0 when equal and infinite when not.
double nmse(const Tensor& got, const Tensor& want, double floor_ms = 0);

}  // namespace stratum
