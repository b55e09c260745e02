// The op compilers: one function per op turns a node into launches of the program being compiled; and the
// pieces the fused ops share (a convolution, a batch norm) for conv_bn to compose.
#pragma once

#include <string_view>
#include <unordered_map>

#include "ir/graph.h"
#include "plugins/cudnn/compiler.h"
#include "plugins/cudnn/kernels.h"

namespace stratum::cudnn {

using OpCompiler = void (*)(const Node& node, Compiler& compiler);

// The compiler of the op of that name; null for an op the plugin does not run.
OpCompiler find_op_compiler(std::string_view op);

// Each op family adds its compilers to the table.
using OpTable = std::unordered_map<std::string_view, OpCompiler>;
void add_conv_ops(OpTable& table);
void add_linear_ops(OpTable& table);
void add_norm_ops(OpTable& table);
void add_pool_ops(OpTable& table);
void add_eltwise_ops(OpTable& table);
void add_shape_ops(OpTable& table);
void add_loss_ops(OpTable& table);
void add_optimizer_ops(OpTable& table);
void add_collective_ops(OpTable& table);

// The plugin's set_world (backends/plugin.h), and whether allreduce runs here in that world: over a GPU
// communicator, or in a world of one.
int set_world(const stratum_communicator* world);
bool runs_allreduce();

// A bool attribute that may not be declared (the fused ops' `relu`): false when absent.
bool flag(const Node& node, const std::string& name);

// A shape seen per channel (axis 1), for the kernels.
kernels::Channels channels_of(const Shape& shape);

// An f32 tensor descriptor of a rank-1 to rank-4 shape as cuDNN's 4-d NCHW: [C] is [1,C,1,1], [N,C] is
// [N,C,1,1].
Descriptor<cudnnTensorDescriptor_t> tensor_desc(const Shape& shape);

// A convolution's attributes and shapes: those of a conv2d-like node (stride, padding, dilation, groups).
struct ConvShape {
  const Node& node;
  Shape x, w, y;
};

// y = conv(x, w) (+ bias) (+ residual) (then relu): one cuDNN call where it fuses (conv.cc says which).
// `bias` and `residual` may be Ref{} (none).
void convolution(Compiler& c, const ConvShape& s, Ref x, Ref w, Ref bias, Ref residual, bool relu, Ref y);
// dx = conv's gradient with respect to x, from dy; dw likewise with respect to w.
void convolution_grad_input(Compiler& c, const ConvShape& s, Ref dy, Ref w, Ref dx);
void convolution_grad_weight(Compiler& c, const ConvShape& s, Ref dy, Ref x, Ref dw);

// The batch-norm pieces conv_bn shares with batch_norm (norm.cc). Inputs and outputs are in the ops'
// order: (x, gamma, beta, running mean, running var) -> (y, mean, var, new running mean, new running var),
// and (dy, x, gamma, beta, mean, var) -> (dx, dgamma, dbeta), beta being read only with `relu`.
struct BatchNorm {
  const Shape& x;
  double eps, momentum;
  bool relu;
};
void batch_norm_training(Compiler& c, const BatchNorm& bn, const std::vector<Ref>& in,
                         const std::vector<Ref>& out);
void batch_norm_backward(Compiler& c, const BatchNorm& bn, const std::vector<Ref>& in,
                         const std::vector<Ref>& out);

}  // namespace stratum::cudnn
