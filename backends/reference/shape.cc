// Ops that move data without arithmetic: flatten, reshape, concat, slice. They take f32 and i32 alike.
#include <algorithm>

#include "backends/reference/common.h"

namespace stratum::reference {

namespace {

// Copies `count` elements from src[src_offset...] to dst[dst_offset...]; both have the same dtype.
void copy_elements(const Tensor& src, int64_t src_offset, Tensor& dst, int64_t dst_offset, int64_t count) {
  if (src.type().dtype == DType::i32) {
    std::copy_n(src.i32() + src_offset, count, dst.i32() + dst_offset);
  } else {
    std::copy_n(src.f32() + src_offset, count, dst.f32() + dst_offset);
  }
}

// flatten and reshape: the same elements in the same order.
void reshape(const Node&, const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) {
  copy_elements(*in[0], 0, *out[0], 0, out[0]->size());
}

// A shape seen around `axis` as [outer, length of axis, inner]; a block is one row of axis·inner elements.
struct AxisView {
  AxisView(const Shape& shape, int64_t axis)
      : outer(num_elements(Shape(shape.begin(), shape.begin() + axis))),
        block(num_elements(Shape(shape.begin() + axis, shape.end()))),
        inner(num_elements(Shape(shape.begin() + axis + 1, shape.end()))) {}
  int64_t outer, block, inner;
};

void concat(const Node& node, const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) {
  concatenate(in, node.attr_int("axis"), *out[0]);
}

void slice(const Node& node, const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) {
  const int64_t axis = node.attr_int("axis");
  const AxisView x(in[0]->shape(), axis), y(out[0]->shape(), axis);
  const int64_t offset = node.attr_int("begin") * x.inner;  // within an input row
  for (int64_t o = 0; o < y.outer; ++o) {
    copy_elements(*in[0], o * x.block + offset, *out[0], o * y.block, y.block);
  }
}

}  // namespace

// Each input's block goes after the previous inputs' blocks in every row of the output.
void concatenate(const std::vector<const Tensor*>& in, int64_t axis, Tensor& out) {
  const AxisView y(out.shape(), axis);
  int64_t offset = 0;  // within an output row
  for (const Tensor* x : in) {
    const AxisView view(x->shape(), axis);
    for (int64_t o = 0; o < y.outer; ++o)
      copy_elements(*x, o * view.block, out, o * y.block + offset, view.block);
    offset += view.block;
  }
}

void add_shape_kernels(KernelTable& table) {
  table["flatten"] = reshape;
  table["reshape"] = reshape;
  table["concat"] = concat;
  table["slice"] = slice;
}

}  // namespace stratum::reference
