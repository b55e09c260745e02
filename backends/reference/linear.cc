// linear (y = x·wᵀ + b, w [M,K]) and its backward ops, all as one matrix product over strided views.
#include "backends/reference/common.h"

namespace stratum::reference {

namespace {

// A read-only matrix over a row-major buffer; swapping the strides transposes it.
struct MatrixView {
  const float* data;
  int64_t row_stride, col_stride;
  double at(int64_t r, int64_t c) const { return data[r * row_stride + c * col_stride]; }
};

// c [rows, cols] = a [rows, depth] · b [depth, cols] (+ bias [cols] when not null), summed in double.
void matmul(MatrixView a, MatrixView b, int64_t depth, const float* bias, Tensor& c) {
  const int64_t rows = c.shape()[0], cols = c.shape()[1];
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t col = 0; col < cols; ++col) {
      double sum = bias ? bias[col] : 0.0;
      for (int64_t k = 0; k < depth; ++k) sum += a.at(r, k) * b.at(k, col);
      c.f32()[r * cols + col] = static_cast<float>(sum);
    }
  }
}

MatrixView rows_of(const Tensor& t) { return {t.f32(), t.shape()[1], 1}; }
MatrixView transposed(const Tensor& t) { return {t.f32(), 1, t.shape()[1]}; }

// (x [N,K], w [M,K][, b [M]]) -> y [N,M], then relu
void linear(const Node& node, const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) {
  const float* bias = in.size() == 3 ? in[2]->f32() : nullptr;
  matmul(rows_of(*in[0]), transposed(*in[1]), in[0]->shape()[1], bias, *out[0]);
  relu_if_fused(node, *out[0]);
}

// (dy [N,M], w [M,K]) -> dx = dy·w [N,K]
void linear_grad_input(const Node&, const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) {
  matmul(rows_of(*in[0]), rows_of(*in[1]), in[0]->shape()[1], nullptr, *out[0]);
}

// (dy [N,M], x [N,K]) -> dw = dyᵀ·x [M,K]
void linear_grad_weight(const Node&, const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) {
  matmul(transposed(*in[0]), rows_of(*in[1]), in[0]->shape()[0], nullptr, *out[0]);
}

}  // namespace

void add_linear_kernels(KernelTable& table) {
  table["linear"] = linear;
  table["linear_grad_input"] = linear_grad_input;
  table["linear_grad_weight"] = linear_grad_weight;
}

}  // namespace stratum::reference
