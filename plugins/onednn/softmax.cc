// softmax and softmax_grad as oneDNN softmax primitives (the 2.x API: a desc of one memory desc and the axis)
// over plain memory, which takes every rank and axis; the primitive subtracts each line's maximum itself.
#include "plugins/onednn/ops.h"

namespace stratum::onednn {

namespace {

using dnnl::memory;

int axis_of(const Node& node) { return static_cast<int>(node.attr_int("axis")); }

dnnl::softmax_forward::primitive_desc forward_pd(const memory::desc& desc, int axis, Compiler& c) {
  return {{dnnl::prop_kind::forward_training, desc, axis}, c.attr(), c.engine()};
}

void softmax(const Node& node, Compiler& c) {
  const memory x = c.plain_input(node.input(0));
  const auto pd = forward_pd(x.get_desc(), axis_of(node), c);
  c.add(pd, {{DNNL_ARG_SRC, x}, {DNNL_ARG_DST, c.output(node.output(), pd.dst_desc())}});
}

// (dy, y) -> dx
void softmax_grad(const Node& node, Compiler& c) {
  const memory y = c.plain_input(node.input(1));
  const memory::desc desc = y.get_desc();
  const int axis = axis_of(node);
  const dnnl::softmax_backward::primitive_desc pd({desc, desc, axis}, c.attr(), c.engine(),
                                                  forward_pd(desc, axis, c));
  c.add(pd, {{DNNL_ARG_DIFF_DST, c.input(node.input(0), desc)},
             {DNNL_ARG_DST, y},
             {DNNL_ARG_DIFF_SRC, c.output(node.output(), pd.diff_src_desc())}});
}

}  // namespace

void add_softmax_ops(OpTable& table) {
  table["softmax"] = softmax;
  table["softmax_grad"] = softmax_grad;
}

}  // namespace stratum::onednn
