// The op compilers: one function per op turns a node into calls of the program being compiled.
#pragma once

#include <string_view>

#include "ir/graph.h"
#include "plugins/onednn/compiler.h"

namespace stratum::onednn {

using OpCompiler = void (*)(const Node& node, Compiler& compiler);

// The compiler of the op of that name; null for an op the plugin does not run.
OpCompiler find_op_compiler(std::string_view op);
// Whether the op's compiler takes bf16 values: its primitives take the dtype of the values they are given,
// or its loop reads and writes f32 conversions (dropout, bias_grad). The plugin runs them in bf16 where the
// CPU has AVX512-BF16.
bool runs_bf16(std::string_view op);

// Each op family adds its compilers to the table.
using OpTable = std::unordered_map<std::string_view, OpCompiler>;
void add_conv_ops(OpTable& table);
void add_linear_ops(OpTable& table);
void add_norm_ops(OpTable& table);
void add_pool_ops(OpTable& table);
void add_eltwise_ops(OpTable& table);
void add_softmax_ops(OpTable& table);
void add_shape_ops(OpTable& table);
void add_loss_ops(OpTable& table);
void add_optimizer_ops(OpTable& table);
void add_fused_ops(OpTable& table);
void add_collective_ops(OpTable& table);

// The plugin's set_world (backends/plugin.h): the communicator its allreduce goes through.
int set_world(const stratum_communicator* world);

// The bias_grad node later in the subgraph that sums the same `dy` as `node`, a weight gradient, claimed so
// that node's primitive computes the bias gradient on the way; null when there is none.
const Node* claim_bias_grad(const Node& node, const Value* dy, Compiler& compiler);

// The primitive attributes of a node that applies `activation` (claim_activation) on the way: an eltwise
// post-op. A residual (conv2d's) comes first as a sum post-op: the primitive adds the destination's old
// contents.
enum class Activation;
dnnl::primitive_attr fused_attr(Compiler& compiler, Activation activation, bool with_sum = false);

// The ops the fused ones are made of (conv.cc, norm.cc). `node` holds the conv or batch-norm attributes.
// conv2d of x by w (+ bias + residual, then relu) into y.
void conv_forward(const Node& node, Compiler& c, const Value* x, const Value* w, const Value* bias,
                  const Value* residual, bool relu, const Value* y);
// conv2d's gradients from dy: dx of x's shape `x_shape`; dw (and db unless null).
void conv_backward_data(const Node& node, Compiler& c, const dnnl::memory& dy, const Value* w,
                        const Shape& x_shape, const Value* dx);
void conv_backward_weights(const Node& node, Compiler& c, const dnnl::memory& dy, const Value* x,
                           const Shape& w_shape, const Value* dw, const Value* db);
// What a conv, linear or add applies to its output y (our kernels in avx512.h, oneDNN's as a post-op): relu
// where the node fuses one, else a sigmoid that alone reads y, claimed, y then being the sigmoid's output;
// else nothing.
Activation claim_activation(Compiler& c, bool relu, const Value*& y);

// A conv of 8 output channels or fewer at stride 1 in f32, on a CPU with AVX-512: our own kernels
// (direct_conv.cc) in plain layouts, where oneDNN's would pad the channels to blocks of 16. Forward (plus
// bias, then relu, or a sigmoid that alone reads y, claimed) and weight gradient (and bias gradient unless db
// is null). The data gradient of a conv of 8 input channels or fewer (at stride 1, x at least 4 columns
// wide), likewise.
bool direct_conv_runs(const Node& node, DType dtype, const Shape& w);
void direct_conv_forward(const Node& node, Compiler& c, const Value* x, const Value* w, const Value* bias,
                         bool relu, const Value* y);
void direct_conv_weight_grad(const Node& node, Compiler& c, const dnnl::memory& dy, const Value* x,
                             const Value* dw, const Value* db);
bool direct_conv_data_grad_runs(const Node& node, DType dtype, const Shape& w, const Shape& x);
void direct_conv_data_grad(const Node& node, Compiler& c, const dnnl::memory& dy, const Value* w,
                           const Shape& x_shape, const Value* dx);
// A conv of one image, in f32 on a CPU with AVX-512 (single_image_conv.cc): of a small output plane, bound by
// reading its weights, or 3×3 at stride 1 or 2 and padding 1 on rows of 6 or more: forward, plus bias, then
// the residual, then relu.
bool single_image_conv_runs(const Node& node, DType dtype, const Shape& x, const Shape& w, const Shape& y);
void single_image_conv_forward(const Node& node, Compiler& c, const Value* x, const Value* w,
                               const Value* bias, const Value* residual, bool relu, const Value* y);
// batch_norm in training of x: y (relu'd when `relu`), mean, var and the running statistics' update.
struct NormValues {
  const Value *x, *gamma, *beta, *running_mean, *running_var;
  const Value *y, *mean, *var, *new_running_mean, *new_running_var;
};
void batch_norm_training(const Node& node, Compiler& c, const NormValues& v, bool relu);
// batch_norm_grad from dy (the relu's output gradient when `beta` is given) into dx (memory in the layout
// the primitive chose when `dx` is null), dgamma, dbeta; returns dx's memory.
dnnl::memory batch_norm_backward(const Node& node, Compiler& c, const dnnl::memory& dy, const Value* x,
                                 const Value* gamma, const Value* beta, const Value* mean, const Value* var,
                                 const Value* dx, const Value* dgamma, const Value* dbeta);

// batch_norm in training and batch_norm_grad of a plain f32 x, [N, C, H, W] with planes of 16 or more or
// [N, C] with 16 features or more, on a CPU with AVX-512: loops of our own (plain_norm.cc), as
// batch_norm_training and batch_norm_backward.
bool plain_norm_runs(const dnnl::memory& x, const Value* value);
void plain_norm_forward(const Node& node, Compiler& c, const NormValues& v, bool relu);
dnnl::memory plain_norm_backward(const Node& node, Compiler& c, const dnnl::memory& dy, const Value* x,
                                 const Value* gamma, const Value* beta, const Value* mean, const Value* var,
                                 const Value* dx, const Value* dgamma, const Value* dbeta);

// A rank-4 value's layout with blocks of `block` channels innermost (aBcd16b or aBcd8b, padded when the
// channels do not fill the last block), or plain for block 1; the zero desc for other ranks.
dnnl::memory::desc channel_blocked(const Value* value, int64_t block);
// The channel block of `desc`, a layout of `value`: 16, 8, 1 (plain), or 0 for any other layout.
int64_t channel_block(const dnnl::memory::desc& desc, const Value* value);

// The layout in which parts are joined along channels: the channel block the first part was written in when
// every part's channels fill whole blocks, else 1 (plain).
int64_t common_block(const std::vector<const Value*>& parts, Compiler& c);

// A bias [size] when `present`, else the empty desc by which a primitive has no bias.
dnnl::memory::desc bias_desc(int64_t size, bool present);

// Runs `body(i)` for i in [0, n), on every thread when the work (n items of `cost` elements each) is large
// enough to pay for waking them.
template <typename F>
void parallel_for(int64_t n, F body, int64_t cost = 1) {
  constexpr int64_t kMinParallel = 1 << 14;
#pragma omp parallel for if (n * cost >= kMinParallel)
  for (int64_t i = 0; i < n; ++i) body(i);
}

}  // namespace stratum::onednn
