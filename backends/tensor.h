// A host tensor: a typed, zero-initialised, contiguous (row-major) buffer of f32, i32 or bf16 (f16 is
// rejected with an Error).
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
  uint16_t* bf16();  // the high halves of f32s (bf16_from_float)
  const uint16_t* bf16() const;
  // The raw bytes, whatever the dtype: type().bytes() of them.
  void* data();
  const void* data() const;

 private:
  TensorType type_;
  std::variant<std::vector<float>, std::vector<int32_t>, std::vector<uint16_t>> data_ = std::vector<float>(1);
};

// bf16 is f32's sign, exponent and top 7 mantissa bits: from f32 rounded to nearest even (NaN stays NaN),
// as oneDNN and the CPU's vcvtneps2bf16 round; back to f32 exactly.
uint16_t bf16_from_float(float x);
float float_from_bf16(uint16_t x);

// The tensor in `dtype` (f32 or bf16, from either): a copy, rounded to bf16 where it narrows.
Tensor converted(const Tensor& t, DType dtype);

// Whether each of the `count` floats at `data` is finite (no NaN or infinity); fast enough to run over
// every param after every step.
bool all_finite(const float* data, size_t count);

// Runs OpenMP's parallel regions on `threads` threads from now on: those of this library and of CPU plugins
// (oneDNN), which share the process's OpenMP runtime. (OMP_NUM_THREADS is read once, when it loads.)
void set_cpu_threads(int threads);

// How far `got` is from `want` (f32 or bf16 tensors of one size): Σ(got - want)² / Σwant², the denominator at
// least `floor_ms` per element, for values that are zero up to rounding (a bias's gradient under batch norm).
// Infinite where got has a NaN; for i32 tensors, 0 when equal and infinite when not.
double nmse(const Tensor& got, const Tensor& want, double floor_ms = 0);

}  // namespace stratum
