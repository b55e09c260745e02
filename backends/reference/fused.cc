// The fused ops, run as the unfused sequences they replace.
#include <cmath>

#include "backends/reference/common.h"

namespace stratum::reference {

namespace {

// (x, w, b, gamma, beta, running mean, running var) -> y, z, mean, var, new running mean, new running var
void conv_bn(const Node& node, const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) {
  Tensor& z = *out[1];
  convolve(node, *in[0], *in[1], in[2], z);
  batch_norm_training(node, {&z, in[3], in[4], in[5], in[6]}, {out[0], out[2], out[3], out[4], out[5]});
  relu_if_fused(node, *out[0]);
}

// (dy, x, w, z, gamma, beta, saved mean, saved var) -> dx, dw, db, dgamma, dbeta
void conv_bn_grad(const Node& node, const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) {
  Tensor dz(in[3]->type());
  const Tensor* beta = node.attr_bool("relu") ? in[5] : nullptr;
  batch_norm_backward(node.attr_float("eps"), {in[0], in[3], in[4], in[6], in[7]}, beta,
                      {&dz, out[3], out[4]});
  convolve_grad_input(node, dz, *in[2], *out[0]);
  convolve_grad_weight(node, dz, *in[1], *out[1]);
  sum_per_channel(dz, *out[2]);
}

// (w, b, gamma, beta, mean, var) -> w·s, (b - mean)·s + beta with s = gamma/sqrt(var + eps) per channel.
void fold_batch_norm(const Node& node, const std::vector<const Tensor*>& in,
                     const std::vector<Tensor*>& out) {
  const int64_t channels = in[0]->shape()[0], per_channel = in[0]->size() / channels;  // w [O,C/g,kh,kw]
  const float *b = in[1]->f32(), *gamma = in[2]->f32(), *beta = in[3]->f32();
  const float *mean = in[4]->f32(), *var = in[5]->f32();
  for (int64_t c = 0; c < channels; ++c) {
    const double scale = gamma[c] / std::sqrt(double(var[c]) + node.attr_float("eps"));
    for (int64_t i = c * per_channel; i < (c + 1) * per_channel; ++i) {
      out[0]->f32()[i] = static_cast<float>(in[0]->f32()[i] * scale);
    }
    out[1]->f32()[c] = static_cast<float>((b[c] - double(mean[c])) * scale + beta[c]);
  }
}

// (x_1, ..., x_k, gamma, beta, mean, var) -> y: the parts concatenated, then batch_norm in inference.
void concat_batch_norm(const Node& node, const std::vector<const Tensor*>& in,
                       const std::vector<Tensor*>& out) {
  Tensor x(out[0]->type());
  concatenate({in.begin(), in.end() - 4}, 1, x);
  batch_norm_inference(node.attr_float("eps"), {&x, in.end()[-4], in.end()[-3], in.end()[-2], in.end()[-1]},
                       *out[0]);
  relu_if_fused(node, *out[0]);
}

// (y, dy) -> sigmoid_grad(avg_pool_grad(dy), y)
void avg_pool_sigmoid_grad(const Node& node, const std::vector<const Tensor*>& in,
                           const std::vector<Tensor*>& out) {
  Tensor pooled_grad(out[0]->type());
  (*find_reference_kernel("avg_pool_grad"))(node, {in[1]}, {&pooled_grad});
  (*find_reference_kernel("sigmoid_grad"))(node, {&pooled_grad, in[0]}, {out[0]});
}

}  // namespace

void add_fused_kernels(KernelTable& table) {
  table["avg_pool_sigmoid_grad"] = avg_pool_sigmoid_grad;
  table["concat_batch_norm"] = concat_batch_norm;
  table["conv_bn"] = conv_bn;
  table["conv_bn_grad"] = conv_bn_grad;
  table["fold_batch_norm"] = fold_batch_norm;
}

}  // namespace stratum::reference
