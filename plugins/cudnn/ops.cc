#include "plugins/cudnn/ops.h"

#include "ir/error.h"

namespace stratum::cudnn {

namespace {

OpTable make_table() {
  OpTable table;
  add_conv_ops(table);
  add_linear_ops(table);
  add_norm_ops(table);
  add_pool_ops(table);
  add_eltwise_ops(table);
  add_shape_ops(table);
  add_loss_ops(table);
  add_optimizer_ops(table);
  add_collective_ops(table);
  return table;
}

}  // namespace

OpCompiler find_op_compiler(std::string_view op) {
  static const OpTable table = make_table();
  auto it = table.find(op);
  return it == table.end() ? nullptr : it->second;
}

bool flag(const Node& node, const std::string& name) {
  return node.attrs().count(name) != 0 && node.attr_bool(name);
}

kernels::Channels channels_of(const Shape& shape) {
  const int64_t channels = shape.size() > 1 ? shape[1] : 1;
  const int64_t size = num_elements(shape);
  return {size, channels, size / std::max<int64_t>(shape.empty() ? 1 : shape[0] * channels, 1)};
}

Descriptor<cudnnTensorDescriptor_t> tensor_desc(const Shape& shape) {
  if (shape.empty() || shape.size() > 4) fail("cuDNN tensors are of rank 1 to 4, got {}", shape.size());
  int dims[4] = {1, 1, 1, 1};
  const size_t first = shape.size() == 1 ? 1 : 0;  // [C] is [1,C,1,1]
  for (size_t i = 0; i < shape.size(); ++i) dims[first + i] = static_cast<int>(shape[i]);
  auto desc = make_descriptor(cudnnCreateTensorDescriptor, cudnnDestroyTensorDescriptor);
  check(cudnnSetTensor4dDescriptor(desc.get(), CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, dims[0], dims[1], dims[2],
                                   dims[3]),
        "cudnnSetTensor4dDescriptor");
  return desc;
}

}  // namespace stratum::cudnn
