// Elementwise ops. relu, sigmoid and their gradients are oneDNN eltwise primitives and add is a binary one,
// all in the layout of their input, as is cast, a reorder; dropout is a loop over plain memory, since its
// mask is a function of each element's row-major index.
#include "backends/dropout_mask.h"
#include "plugins/onednn/ops.h"

namespace stratum::onednn {

namespace {

using dnnl::memory;

dnnl::eltwise_forward::primitive_desc forward_pd(dnnl::algorithm algorithm, const memory::desc& desc,
                                                 Compiler& c) {
  return {{dnnl::prop_kind::forward_training, algorithm, desc, 0.0f, 0.0f}, c.attr(), c.engine()};
}

// x -> y. oneDNN's fast kernels take a padded blocked layout (channels not a multiple of the block) only
// for functions that keep the padding zero; others (sigmoid) would fall to its slow reference kernel there,
// so they take such an input plain.
template <dnnl::algorithm kAlgorithm>
void eltwise(const Node& node, Compiler& c) {
  const Value* value = node.input(0);
  memory x = c.input(value);
  const bool padded = x.get_desc().get_size() > static_cast<size_t>(value->type().bytes());
  if (padded && kAlgorithm != dnnl::algorithm::eltwise_relu_use_dst_for_bwd) x = c.plain_input(value);
  const auto pd = forward_pd(kAlgorithm, x.get_desc(), c);
  c.add(pd, {{DNNL_ARG_SRC, x}, {DNNL_ARG_DST, c.output(node.output(), pd.dst_desc())}});
}

// (dy, y) -> dx, through the forward's output (the *_use_dst_for_bwd algorithms), in y's layout.
template <dnnl::algorithm kAlgorithm>
void eltwise_grad(const Node& node, Compiler& c) {
  const memory y = c.input(node.input(1));
  const memory::desc desc = y.get_desc();
  const dnnl::eltwise_backward::primitive_desc pd({kAlgorithm, desc, desc, 0.0f, 0.0f}, c.attr(), c.engine(),
                                                  forward_pd(kAlgorithm, desc, c));
  c.add(pd, {{DNNL_ARG_DIFF_DST, c.input(node.input(0), desc)},
             {DNNL_ARG_DST, y},
             {DNNL_ARG_DIFF_SRC, c.output(node.output(), pd.diff_src_desc())}});
}

bool is_plain(const memory& m, const Value* value) { return m.get_desc() == plain_desc(value->type()); }

// (a, b) -> a + b, then relu, in the layout of an input a primitive chose
// (a blocked one rather than plain), so that a residual sum stays in the convolutions' layout.
void add(const Node& node, Compiler& c) {
  const memory a = c.input(node.input(0)), b = c.input(node.input(1));
  const memory::desc desc = is_plain(a, node.input(0)) ? b.get_desc() : a.get_desc();
  const Value* y = node.output();
  const dnnl::binary::primitive_desc pd({dnnl::algorithm::binary_add, desc, desc, desc},
                                        fused_attr(c, claim_activation(c, node.attr_bool("relu"), y)),
                                        c.engine());
  c.add(pd, {{DNNL_ARG_SRC_0, c.convert(a, desc)},
             {DNNL_ARG_SRC_1, c.convert(b, desc)},
             {DNNL_ARG_DST, c.output(y, desc)}});
}

// (x, key) -> x·keep/(1-p) with the mask of backends/dropout_mask.h: dropout in training, and dropout_grad
// (which applies the forward's mask to dy). A loop over plain f32: a bf16 x is converted, and a bf16 y
// written into an f32 buffer, then converted.
void apply_dropout_mask(const Node& node, Compiler& c) {
  const memory::dims dims = dims_of(node.output()->type().shape);
  const memory x = c.input(node.input(0), plain_desc(dims)), key = c.plain_input(node.input(1));
  const bool bf16 = node.output()->type().dtype == DType::bf16;
  const memory y = bf16 ? c.buffer(plain_desc(dims)) : c.plain_output(node.output());
  const double p = node.attr_float("p");
  const int64_t seed = node.attr_int("seed"), n = node.output()->type().num_elements();
  c.add_loop(
      [=] {
        const float* in = data<float>(x);
        float* out = data<float>(y);
        const int32_t k = *data<int32_t>(key);
        parallel_for(n, [&](int64_t i) {
          out[i] = dropout_keep(seed, k, i, p) ? static_cast<float>(in[i] / (1 - p)) : 0.0f;
        });
      },
      {x, key, y});
  if (bf16) c.reorder(y, c.plain_output(node.output()));
}

// x -> x in y's dtype, plain: the bf16 pass casts at the graph's edges (params, their gradients, the
// loss's logits), where plain is what the reader wants (an update reads a weight gradient plain: cast in
// the primitive's blocked layout, it took a second pass over fc1's gradient, 19 ms of VGG-11/4's bf16 step).
void cast(const Node& node, Compiler& c) {
  const memory x = c.input(node.input(0));
  const memory::data_type type = data_type_of(node.output()->type().dtype);
  if (x.get_desc().data_type() == type) return c.alias(node.output(), x);
  c.reorder(x, c.plain_output(node.output()));
}

void dropout(const Node& node, Compiler& c) {
  if (node.attr_bool("training")) return apply_dropout_mask(node, c);
  c.alias(node.output(), c.input(node.input(0)));  // inference: the identity
}

}  // namespace

void add_eltwise_ops(OpTable& table) {
  table["relu"] = eltwise<dnnl::algorithm::eltwise_relu_use_dst_for_bwd>;
  table["relu_grad"] = eltwise_grad<dnnl::algorithm::eltwise_relu_use_dst_for_bwd>;
  table["sigmoid"] = eltwise<dnnl::algorithm::eltwise_logistic_use_dst_for_bwd>;
  table["sigmoid_grad"] = eltwise_grad<dnnl::algorithm::eltwise_logistic_use_dst_for_bwd>;
  table["add"] = add;
  table["dropout"] = dropout;
  table["dropout_grad"] = apply_dropout_mask;
  table["cast"] = cast;
}

}  // namespace stratum::onednn
