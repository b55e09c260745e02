// Ops that move data: flatten and reshape are views of plain memory (no copy), concat is oneDNN's concat
// over its inputs' layouts, slice a reorder of a sub-memory.
#include "plugins/onednn/ops.h"

namespace stratum::onednn {

namespace {

using dnnl::memory;

// flatten and reshape: the same row-major elements under a new shape.
void reshape(const Node& node, Compiler& c) {
  c.alias(node.output(), c.view(c.plain_input(node.input(0)), plain_desc(node.output()->type())));
}

void concat(const Node& node, Compiler& c) {
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

// Elements [begin, end) along an axis: the sub-memory of x in its own layout where that layout can express
// one (a blocked layout cannot cut through a block), else of plain x; copied out plain.
void slice(const Node& node, Compiler& c) {
  const Value* x = node.input(0);
  const memory::dims dims = dims_of(node.output()->type().shape);
  memory::dims offsets(dims.size(), 0);
  offsets[node.attr_int("axis")] = node.attr_int("begin");
  memory source = c.input(x);
  memory::desc sub = source.get_desc().submemory_desc(dims, offsets, /*allow_empty=*/true);
  if (sub.is_zero()) {
    source = c.plain_input(x);
    sub = source.get_desc().submemory_desc(dims, offsets);
  }
  c.reorder(c.view(source, sub), c.plain_output(node.output()));
}

}  // namespace

void add_shape_ops(OpTable& table) {
  table["flatten"] = reshape;
  table["reshape"] = reshape;
  table["concat"] = concat;
  table["slice"] = slice;
}

}  // namespace stratum::onednn
