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
void add_shape_kernels(KernelTable& table);
void add_linear_kernels(KernelTable& table);
void add_loss_kernels(KernelTable& table);

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
