// Ops that move data: flatten and reshape are the same bytes (no copy), concat and slice are strided copies
// of rows (cudaMemcpy2DAsync), f32 and i32 alike.
#include "plugins/cudnn/ops.h"

namespace stratum::cudnn {

namespace {

void reshape(const Node& node, Compiler& c) { c.alias(node.output(), c.input(node.input(0))); }

// A shape seen around `axis` as rows of a block: outer rows of `block` bytes each.
struct Rows {
  Rows(const TensorType& type, int64_t axis)
      : outer(num_elements(Shape(type.shape.begin(), type.shape.begin() + axis))),
        block(type.bytes() / std::max<int64_t>(outer, 1)) {}
  int64_t outer;
  size_t block;
};

// Copies `rows` rows of `width` bytes, from rows `from_pitch` apart to rows `to_pitch` apart.
void copy_rows(Compiler& c, Ref from, size_t from_offset, size_t from_pitch, Ref to, size_t to_offset,
               size_t to_pitch, size_t width, int64_t rows) {
  c.add(
      [=](const RunContext& r) {
        check(cudaMemcpy2DAsync(r.at<char>(to) + to_offset, to_pitch, r.at<char>(from) + from_offset,
                                from_pitch, width, rows, cudaMemcpyDeviceToDevice, r.stream()),
              "cudaMemcpy2DAsync");
      },
      {from, to});
}

// Each input's block goes after the previous inputs' blocks in every row of the output.
void concat(const Node& node, Compiler& c) {
  const int64_t axis = node.attr_int("axis");
  const Rows y(node.output()->type(), axis);
  const Ref out = c.output(node.output());
  size_t offset = 0;
  for (const Value* input : node.inputs()) {
    const Rows x(input->type(), axis);
    copy_rows(c, c.input(input), 0, x.block, out, offset, y.block, x.block, y.outer);
    offset += x.block;
  }
}

void slice(const Node& node, Compiler& c) {
  const int64_t axis = node.attr_int("axis");
  const TensorType& in = node.input(0)->type();
  const Rows x(in, axis), y(node.output()->type(), axis);
  const size_t offset = x.block / in.shape[axis] * node.attr_int("begin");
  copy_rows(c, c.input(node.input(0)), offset, x.block, c.output(node.output()), 0, y.block, y.block,
            y.outer);
}

}  // namespace

void add_shape_ops(OpTable& table) {
  table["flatten"] = reshape;
  table["reshape"] = reshape;
  table["concat"] = concat;
  table["slice"] = slice;
}

}  // namespace stratum::cudnn
