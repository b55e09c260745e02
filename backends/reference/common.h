// Shared by the reference kernel families: the kernel table each family fills in, and small helpers.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "backends/reference/kernels.h"

namespace stratum::reference {

using KernelTable = std::map<std::string, Kernel, std::less<>>;
void add_conv_kernels(KernelTable& table);
void add_pool_kernels(KernelTable& table);
void add_norm_kernels(KernelTable& table);
void add_elementwise_kernels(KernelTable& table);
void add_softmax_kernels(KernelTable& table);
void add_shape_kernels(KernelTable& table);
void add_linear_kernels(KernelTable& table);
void add_loss_kernels(KernelTable& table);
void add_optimizer_kernels(KernelTable& table);
void add_collective_kernels(KernelTable& table);
void add_fused_kernels(KernelTable& table);

// The unfused pieces the fused ops are run as.
// max(x, 0) in place, where the node's `relu` attribute asks for it.
void relu_if_fused(const Node& node, Tensor& y);
// conv2d's output y from x, w and an optional bias; `node` holds the conv attributes.
void convolve(const Node& node, const Tensor& x, const Tensor& w, const Tensor* bias, Tensor& y);
void convolve_grad_input(const Node& node, const Tensor& dy, const Tensor& w, Tensor& dx);
void convolve_grad_weight(const Node& node, const Tensor& dy, const Tensor& x, Tensor& dw);
void sum_per_channel(const Tensor& dy, Tensor& db);
// concat: the inputs joined along `axis` into `out`.
void concatenate(const std::vector<const Tensor*>& in, int64_t axis, Tensor& out);
// batch_norm in inference: y from (x, gamma, beta, running mean, running var).
void batch_norm_inference(double eps, const std::vector<const Tensor*>& in, Tensor& y);
// batch_norm in training: y, saved mean and var, new running mean and var, from x, gamma, beta and the
// running statistics; `node` holds eps and momentum. With `sync`, the statistics are over every
// data-parallel rank's part of the batch (backends/world.h).
void batch_norm_training(const Node& node, const std::vector<const Tensor*>& in,
                         const std::vector<Tensor*>& out, bool sync = false);
// batch_norm_grad: (dy, x, gamma, mean, var) -> dx, dgamma, dbeta; with a `beta`, dy passes only where
// batch_norm's output (before the relu) is positive.
void batch_norm_backward(double eps, const std::vector<const Tensor*>& in, const Tensor* beta,
                         const std::vector<Tensor*>& out, bool sync = false);

// Writes sums accumulated in double to an f32 tensor of the same size.
void store(const std::vector<double>& sums, Tensor& out);

// A tensor whose axis 1 is the channel axis, seen as [outer, channels, inner]: [N,C] or [N,C,H,W] for
// batch_norm, any rank >= 2 for biases.
struct ChannelView {
  explicit ChannelView(const Shape& shape);
  int64_t outer, channels, inner;
  int64_t per_channel() const { return outer * inner; }
  // Calls f(flat index) for each element of channel c.
  template <typename F>
  void for_each_in_channel(int64_t c, F f) const {
    for (int64_t o = 0; o < outer; ++o) {
      for (int64_t i = 0; i < inner; ++i) f((o * channels + c) * inner + i);
    }
  }
};

}  // namespace stratum::reference
