#include "plugins/onednn/ops.h"

#include <algorithm>
#include <unordered_set>

#include "plugins/onednn/avx512.h"

namespace stratum::onednn {

namespace {

OpTable make_table() {
  OpTable table;
  add_conv_ops(table);
  add_linear_ops(table);
  add_norm_ops(table);
  add_pool_ops(table);
  add_eltwise_ops(table);
  add_softmax_ops(table);
  add_shape_ops(table);
  add_loss_ops(table);
  add_optimizer_ops(table);
  add_fused_ops(table);
  add_collective_ops(table);
  return table;
}

}  // namespace

OpCompiler find_op_compiler(std::string_view op) {
  static const OpTable table = make_table();
  auto it = table.find(op);
  return it == table.end() ? nullptr : it->second;
}

bool runs_bf16(std::string_view op) {
  // clang-format off
  static const std::unordered_set<std::string_view> ops = {
      "add", "avg_pool", "avg_pool_grad", "batch_norm", "batch_norm_grad", "bias_grad", "cast", "concat",
      "conv2d", "conv2d_grad_input", "conv2d_grad_weight", "conv_bn", "conv_bn_grad", "dropout", "dropout_grad",
      "flatten", "global_avg_pool", "global_avg_pool_grad", "linear", "linear_grad_input", "linear_grad_weight",
      "max_pool", "max_pool_grad", "relu", "relu_grad", "reshape", "sigmoid", "sigmoid_grad", "slice"};
  // clang-format on
  return ops.count(op) > 0;
}

dnnl::primitive_attr fused_attr(Compiler& compiler, Activation activation, bool with_sum) {
  dnnl::post_ops post_ops;
  if (with_sum) post_ops.append_sum(1.0f);
  if (activation == Activation::kRelu)
    post_ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
  if (activation == Activation::kSigmoid)
    post_ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_logistic, 0.0f, 0.0f);
  return compiler.attr(post_ops);
}

dnnl::memory::desc channel_blocked(const Value* value, int64_t block) {
  const dnnl::memory::dims dims = dims_of(value->type().shape);
  if (block == 1) return plain_desc(value->type());
  if (dims.size() != 4) return {};
  return dnnl::memory::desc(
      dims, data_type_of(value->type().dtype),
      block == 16 ? dnnl::memory::format_tag::aBcd16b : dnnl::memory::format_tag::aBcd8b);
}

int64_t channel_block(const dnnl::memory::desc& desc, const Value* value) {
  for (int64_t block : {1, 16, 8}) {
    if (desc == channel_blocked(value, block)) return block;
  }
  return 0;
}

int64_t common_block(const std::vector<const Value*>& parts, Compiler& c) {
  const int64_t block = channel_block(c.input(parts[0]).get_desc(), parts[0]);
  const bool fits = block > 0 && std::all_of(parts.begin(), parts.end(), [&](const Value* part) {
                      return part->type().shape[1] % block == 0;
                    });
  return fits ? block : 1;
}

dnnl::memory::desc bias_desc(int64_t size, bool present) {
  if (!present) return {};
  return dnnl::memory::desc({size}, dnnl::memory::data_type::f32, dnnl::memory::format_tag::x);
}

Activation claim_activation(Compiler& c, bool relu, const Value*& y) {
  if (relu) return Activation::kRelu;
  const Node* sigmoid = c.sole_reader(y, "sigmoid");
  if (sigmoid == nullptr) return Activation::kNone;
  c.claim(sigmoid);
  y = sigmoid->output();
  return Activation::kSigmoid;
}

const Node* claim_bias_grad(const Node& node, const Value* dy, Compiler& compiler) {
  const int position = compiler.graph().index_of(&node);
  for (const Node* user : dy->users()) {
    if (user->op_name() == "bias_grad" && !compiler.claimed(user) &&
        compiler.graph().index_of(user) > position) {
      compiler.claim(user);
      return user;
    }
  }
  return nullptr;
}

}  // namespace stratum::onednn
