#include "backends/reference/kernels.h"

#include "backends/reference/common.h"

#include <algorithm>

namespace stratum {

namespace reference {

void store(const std::vector<double>& sums, Tensor& out) {
  float* y = out.f32();
  for (size_t i = 0; i < sums.size(); ++i) y[i] = static_cast<float>(sums[i]);
}

ChannelView::ChannelView(const Shape& shape)
    : outer(shape.at(0)), channels(shape.at(1)), inner(num_elements(Shape(shape.begin() + 2, shape.end()))) {}

void relu_if_fused(const Node& node, Tensor& y) {
  if (!node.attr_bool("relu")) return;
  for (int64_t i = 0; i < y.size(); ++i) y.f32()[i] = std::max(y.f32()[i], 0.0f);
}

}  // namespace reference

const Kernel* find_reference_kernel(std::string_view op) {
  static const reference::KernelTable* table = [] {
    auto t = new reference::KernelTable;
    reference::add_conv_kernels(*t);
    reference::add_pool_kernels(*t);
    reference::add_norm_kernels(*t);
    reference::add_elementwise_kernels(*t);
    reference::add_softmax_kernels(*t);
    reference::add_shape_kernels(*t);
    reference::add_linear_kernels(*t);
    reference::add_loss_kernels(*t);
    reference::add_optimizer_kernels(*t);
    reference::add_collective_kernels(*t);
    reference::add_fused_kernels(*t);
    return t;
  }();
  auto it = table->find(op);
  return it == table->end() ? nullptr : &it->second;
}

}  // namespace stratum
