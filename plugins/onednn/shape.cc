// Ops that move data: flatten and reshape are views of plain memory (no copy), concat a copy of
// each part into its channels (or oneDNN's concat), slice a reorder of a sub-memory.
#include <cstring>

#include "plugins/onednn/ops.h"

namespace stratum::onednn {

namespace {

using dnnl::memory;

// flatten and reshape: the same row-major elements under a new shape.
void reshape(const Node& node, Compiler& c) {
  c.alias(node.output(), c.view(c.plain_input(node.input(0)), plain_desc(node.output()->type())));
}

void onednn_concat(const Node& node, Compiler& c) {
  std::vector<memory> inputs;
  std::vector<memory::desc> descs;
  for (const Value* input : node.inputs()) {
    inputs.push_back(c.input(input));
    descs.push_back(inputs.back().get_desc());
  }
  const dnnl::concat::primitive_desc pd(static_cast<int>(node.attr_int("axis")), descs, c.engine(), c.attr());
  Args args = {{DNNL_ARG_DST, c.output(node.output(), pd.dst_desc())}};
  for (size_t i = 0; i < inputs.size(); ++i) args[DNNL_ARG_MULTIPLE_SRC + static_cast<int>(i)] = inputs[i];
  c.add(pd, std::move(args));
}

// Along channels, of parts in a plain or channel-blocked layout: each part is copied into its channels of y
// in the layout they share (common_block), one memcpy an image. oneDNN 2.6's concat copies large parts one
// element per call, and may pick a layout for y that no part and no reader has.
void concat(const Node& node, Compiler& c) {
  const std::vector<const Value*> parts(node.inputs().begin(), node.inputs().end());
  if (node.attr_int("axis") != 1 || channel_block(c.input(parts[0]).get_desc(), parts[0]) == 0)
    return onednn_concat(node, c);
  const int64_t block = common_block(parts, c), batch = node.output()->type().shape[0];
  std::vector<memory> in;
  std::vector<size_t> bytes;  // a part's bytes an image
  for (const Value* part : parts) {
    in.push_back(c.input(part, channel_blocked(part, block)));
    bytes.push_back(in.back().get_desc().get_size() / batch);
  }
  const memory y = c.output(node.output(), channel_blocked(node.output(), block));
  const size_t image = y.get_desc().get_size() / batch;
  std::vector<memory> touched = in;
  touched.push_back(y);
  c.add_loop(
      [=] {
        const int64_t n_parts = static_cast<int64_t>(in.size());
        parallel_for(
            batch * n_parts,
            [&](int64_t i) {
              const int64_t n = i / n_parts, p = i % n_parts;
              size_t offset = n * image;
              for (int64_t q = 0; q < p; ++q) offset += bytes[q];
              std::memcpy(data<char>(y) + offset, data<char>(in[p]) + n * bytes[p], bytes[p]);
            },
            static_cast<int64_t>(image / n_parts / 4));
      },
      touched);
}

// Whether y, channels [begin, end) of one image in channel blocks, is whole in x's memory: it starts at a
// block and ends at one or at x's last channel (the padding after it x's).
bool whole_blocks(const Node& node, const memory& x, int64_t& block) {
  const int64_t begin = node.attr_int("begin"), end = node.attr_int("end");
  const Shape& shape = node.input(0)->type().shape;
  block = channel_block(x.get_desc(), node.input(0));
  return node.attr_int("axis") == 1 && shape[0] == 1 && block > 1 && begin % block == 0 &&
         (end % block == 0 || end == shape[1]);
}

// Elements [begin, end) along an axis: a view of x where they are whole in its memory (the 1×1 convs that
// merge_pointwise joined, at batch 1); else the sub-memory of x in its own layout where that layout can
// express one (a blocked layout cannot cut through a block), copied out in x's channel blocks where y's
// channels fill them (GoogLeNet's concat gradients, which convs read blocked: copied out plain, each was
// reordered back); else of plain x, copied out plain.
void slice(const Node& node, Compiler& c) {
  const Value *x = node.input(0), *y = node.output();
  memory source = c.input(x);
  if (int64_t block; whole_blocks(node, source, block)) {
    const size_t offset = node.attr_int("begin") * (x->type().num_elements() / x->type().shape[1]) *
                          memory::data_type_size(source.get_desc().data_type());
    c.alias(y, c.view_from(source, offset, channel_blocked(y, block)));
    return;
  }
  const memory::dims dims = dims_of(y->type().shape);
  memory::dims offsets(dims.size(), 0);
  offsets[node.attr_int("axis")] = node.attr_int("begin");
  memory::desc sub = source.get_desc().submemory_desc(dims, offsets, /*allow_empty=*/true);
  const int64_t block = sub.is_zero() ? 0 : channel_block(source.get_desc(), x);
  if (block > 1 && y->type().shape[1] % block == 0) {
    c.reorder(c.view(source, sub), c.output(y, channel_blocked(y, block)));
    return;
  }
  if (sub.is_zero()) {
    source = c.plain_input(x);
    sub = source.get_desc().submemory_desc(dims, offsets);
  }
  c.reorder(c.view(source, sub), c.plain_output(y));
}

}  // namespace

void add_shape_ops(OpTable& table) {
  table["flatten"] = reshape;
  table["reshape"] = reshape;
  table["concat"] = concat;
  table["slice"] = slice;
}

}  // namespace stratum::onednn
