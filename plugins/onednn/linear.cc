// linear (y = x·wᵀ + b, w [M,K]: oneDNN's OI) and its gradients as oneDNN inner products; bias_grad is
// folded into the weight gradient's primitive where one reads the same dy. f32 weights and their gradient
// stay plain: oneDNN's GEMM reads them as they are, where a blocked layout costs a reorder each way and a
// second copy of the weights in the arena (AlexNet's fc1 and fc2: 170 MiB), and is no faster (AlexNet's FC
// layers train 13% faster plain at batch 128 and infer 20% faster at batch 1).
#include "plugins/onednn/ops.h"

namespace stratum::onednn {

namespace {

using dnnl::memory;

// x [N,K] · wᵀ (w [M,K]) = y [N,M].
struct LinearShape {
  LinearShape(DType dtype, int64_t n, int64_t k, int64_t m)
      : type(data_type_of(dtype)), src{n, k}, weights{m, k}, dst{n, m} {}
  memory::desc bias(bool with_bias) const { return bias_desc(dst[1], with_bias); }
  memory::desc any(const memory::dims& dims) const { return any_desc(dims, type); }
  // bf16 weights in the layout oneDNN chooses: its AMX kernels want them blocked (plain, fc1's weight
  // gradient took 24 ms where blocked takes a fraction).
  memory::desc weights_layout() const {
    return type == memory::data_type::f32 ? plain_desc(weights, type) : any(weights);
  }
  memory::data_type type;  // of x, w, y and their gradients (the bias is f32)
  memory::dims src, weights, dst;
};

dnnl::inner_product_forward::primitive_desc forward_pd(const LinearShape& s, bool with_bias,
                                                       const dnnl::primitive_attr& attr, Compiler& c) {
  const dnnl::inner_product_forward::desc desc(dnnl::prop_kind::forward_training, s.any(s.src),
                                               s.weights_layout(), s.bias(with_bias), s.any(s.dst));
  return {desc, attr, c.engine()};
}

// (x, w[, bias]) -> y, then relu (or a sigmoid, claim_activation).
void linear(const Node& node, Compiler& c) {
  const bool with_bias = node.inputs().size() == 3;
  const Shape &x = node.input(0)->type().shape, &w = node.input(1)->type().shape;
  const LinearShape s(node.input(0)->type().dtype, x[0], x[1], w[0]);
  const Value* y = node.output();
  const auto pd = forward_pd(s, with_bias, fused_attr(c, claim_activation(c, node.attr_bool("relu"), y)), c);
  Args args = {{DNNL_ARG_SRC, c.input(node.input(0), pd.src_desc())},
               {DNNL_ARG_WEIGHTS, c.input(node.input(1), pd.weights_desc())},
               {DNNL_ARG_DST, c.output(y, pd.dst_desc())}};
  if (with_bias) args[DNNL_ARG_BIAS] = c.input(node.input(2), pd.bias_desc());
  c.add(pd, std::move(args));
}

// (dy [N,M], w [M,K]) -> dx
void linear_grad_input(const Node& node, Compiler& c) {
  const Shape &dy = node.input(0)->type().shape, &w = node.input(1)->type().shape;
  const LinearShape s(node.input(0)->type().dtype, dy[0], w[1], w[0]);
  const dnnl::inner_product_backward_data::desc desc(s.any(s.src), s.weights_layout(), s.any(s.dst));
  const dnnl::inner_product_backward_data::primitive_desc pd(desc, c.attr(), c.engine(),
                                                             forward_pd(s, false, c.attr(), c));
  c.add(pd, {{DNNL_ARG_DIFF_DST, c.input(node.input(0), pd.diff_dst_desc())},
             {DNNL_ARG_WEIGHTS, c.input(node.input(1), pd.weights_desc())},
             {DNNL_ARG_DIFF_SRC, c.output(node.output(), pd.diff_src_desc())}});
}

// (dy [N,M], x [N,K]) -> dw, and the bias gradient when a bias_grad of dy follows.
void linear_grad_weight(const Node& node, Compiler& c) {
  const Value *dy = node.input(0), *x = node.input(1);
  const LinearShape s(dy->type().dtype, dy->type().shape[0], x->type().shape[1], dy->type().shape[1]);
  const Node* bias_grad = claim_bias_grad(node, dy, c);
  const dnnl::inner_product_backward_weights::desc desc(s.any(s.src), s.weights_layout(),
                                                        s.bias(bias_grad != nullptr), s.any(s.dst));
  const dnnl::inner_product_backward_weights::primitive_desc pd(
      desc, c.attr(), c.engine(), forward_pd(s, bias_grad != nullptr, c.attr(), c));
  Args args = {{DNNL_ARG_SRC, c.input(x, pd.src_desc())},
               {DNNL_ARG_DIFF_DST, c.input(dy, pd.diff_dst_desc())},
               {DNNL_ARG_DIFF_WEIGHTS, c.output(node.output(), pd.diff_weights_desc())}};
  if (bias_grad) args[DNNL_ARG_DIFF_BIAS] = c.output(bias_grad->output(), pd.diff_bias_desc());
  c.add(pd, std::move(args));
}

}  // namespace

void add_linear_ops(OpTable& table) {
  table["linear"] = linear;
  table["linear_grad_input"] = linear_grad_input;
  table["linear_grad_weight"] = linear_grad_weight;
}

}  // namespace stratum::onednn
