// softmax and its backward op, along one axis, in double.
#include <algorithm>
#include <cmath>
#include <limits>

#include "backends/reference/common.h"

namespace stratum::reference {

namespace {

// A tensor seen as [outer, size, inner] around `axis`: outer·inner lines of `size` elements each.
struct AxisView {
  AxisView(const Shape& shape, int64_t axis)
      : outer(num_elements(Shape(shape.begin(), shape.begin() + axis))),
        size(shape.at(axis)),
        inner(num_elements(Shape(shape.begin() + axis + 1, shape.end()))) {}
  int64_t outer, size, inner;
  int64_t lines() const { return outer * inner; }
  // The flat index of element k of line `line`.
  int64_t at(int64_t line, int64_t k) const { return (line / inner * size + k) * inner + line % inner; }
};

// y = e^(x - max) / Σ e^(x - max) along each line: the shift keeps every exp at most 1.
void softmax(const Node& node, const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) {
  const AxisView v(in[0]->shape(), node.attr_int("axis"));
  const float* x = in[0]->f32();
  for (int64_t line = 0; line < v.lines(); ++line) {
    double max = -std::numeric_limits<double>::infinity(), sum = 0;
    for (int64_t k = 0; k < v.size; ++k) max = std::max<double>(max, x[v.at(line, k)]);
    for (int64_t k = 0; k < v.size; ++k) sum += std::exp(x[v.at(line, k)] - max);
    for (int64_t k = 0; k < v.size; ++k) {
      out[0]->f32()[v.at(line, k)] = static_cast<float>(std::exp(x[v.at(line, k)] - max) / sum);
    }
  }
}

// (dy, y) -> dx = y·(dy - Σ dy·y) along each line.
void softmax_grad(const Node& node, const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) {
  const AxisView v(in[1]->shape(), node.attr_int("axis"));
  const float *dy = in[0]->f32(), *y = in[1]->f32();
  for (int64_t line = 0; line < v.lines(); ++line) {
    double dot = 0;
    for (int64_t k = 0; k < v.size; ++k) dot += double(dy[v.at(line, k)]) * y[v.at(line, k)];
    for (int64_t k = 0; k < v.size; ++k) {
      const int64_t i = v.at(line, k);
      out[0]->f32()[i] = static_cast<float>(y[i] * (dy[i] - dot));
    }
  }
}

}  // namespace

void add_softmax_kernels(KernelTable& table) {
  table["softmax"] = softmax;
  table["softmax_grad"] = softmax_grad;
}

}  // namespace stratum::reference
