// The fused ops: conv_bn and conv_bn_grad as a convolution and a batch normalisation whose relu is oneDNN's
// fuse_norm_relu, the batch norm's output never formed before its relu (nor, backward, the relu's gradient);
// fold_batch_norm as a loop over the weights.
#include <cmath>

#include "plugins/onednn/ops.h"

namespace stratum::onednn {

namespace {

using dnnl::memory;

// (x, w, b, gamma, beta, running mean, running var) -> y, z, mean, var, new running mean, new running var
void conv_bn(const Node& node, Compiler& c) {
  conv_forward(node, c, node.input(0), node.input(1), node.input(2), nullptr, /*relu=*/false, node.output(1));
  batch_norm_training(node, c,
                      {node.output(1), node.input(3), node.input(4), node.input(5), node.input(6),
                       node.output(0), node.output(2), node.output(3), node.output(4), node.output(5)},
                      node.attr_bool("relu"));
}

// (dy, x, w, z, gamma, beta, saved mean, saved var) -> dx, dw, db, dgamma, dbeta; dx only when read.
void conv_bn_grad(const Node& node, Compiler& c) {
  const Value *x = node.input(1), *w = node.input(2);
  const memory dz = batch_norm_backward(node, c, c.input(node.input(0)), node.input(3), node.input(4),
                                        node.attr_bool("relu") ? node.input(5) : nullptr, node.input(6),
                                        node.input(7), nullptr, node.output(3), node.output(4));
  if (c.needed(node.output(0))) conv_backward_data(node, c, dz, w, x->type().shape, node.output(0));
  conv_backward_weights(node, c, dz, x, w->type().shape, node.output(1), node.output(2));
}

// (w, b, gamma, beta, mean, var) -> w·s, (b - mean)·s + beta with s = gamma/sqrt(var + eps) per channel
void fold_batch_norm(const Node& node, Compiler& c) {
  std::vector<memory> in;
  for (const Value* input : node.inputs()) in.push_back(c.plain_input(input));
  const memory folded_w = c.plain_output(node.output(0)), folded_b = c.plain_output(node.output(1));
  const int64_t channels = node.input(0)->type().shape[0];
  const int64_t per_channel = node.input(0)->type().num_elements() / channels;
  const double eps = node.attr_float("eps");
  std::vector<memory> touched = in;
  touched.insert(touched.end(), {folded_w, folded_b});
  c.add_loop(
      [=] {
        const float *w = data<float>(in[0]), *b = data<float>(in[1]), *gamma = data<float>(in[2]);
        const float *beta = data<float>(in[3]), *mean = data<float>(in[4]), *var = data<float>(in[5]);
        float *w_out = data<float>(folded_w), *b_out = data<float>(folded_b);
        parallel_for(
            channels,
            [&](int64_t ch) {
              const double scale = gamma[ch] / std::sqrt(double(var[ch]) + eps);
              for (int64_t i = ch * per_channel; i < (ch + 1) * per_channel; ++i)
                w_out[i] = static_cast<float>(w[i] * scale);
              b_out[ch] = static_cast<float>((b[ch] - double(mean[ch])) * scale + beta[ch]);
            },
            per_channel);
      },
      touched);
}

}  // namespace

void add_fused_ops(OpTable& table) {
  table["conv_bn"] = conv_bn;
  table["conv_bn_grad"] = conv_bn_grad;
  table["fold_batch_norm"] = fold_batch_norm;
}

}  // namespace stratum::onednn
