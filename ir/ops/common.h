// Helpers shared by the op definitions: input checks that fail with a reason, and node emission for
// gradient builders.
#pragma once

#include <string>
#include <vector>

#include "ir/error.h"
#include "ir/op.h"

namespace stratum::ops {

void expect_rank(const TensorType& type, int64_t rank, const char* what);
void expect_dtype(const TensorType& type, DType dtype, const char* what);
// Activations, weights and their gradients are f32 or bf16 (channel vectors, statistics and losses f32).
void expect_float(const TensorType& type, const char* what);
// A list of `count` ints, each at least `min`.
void expect_ints(const OpCall& call, const std::string& attr, size_t count, int64_t min);
void expect_same_type(const TensorType& a, const TensorType& b, const char* what);

// The single output of a new node; used by gradient builders.
Value* emit(Graph& graph, std::string_view op, std::vector<Value*> inputs, Attrs attrs = {});
// A copy of the node's attributes with some replaced or added.
Attrs with(const Attrs& attrs, const Attrs& extra);

// Fused ops and fusable ops carry `relu`: a ReLU applied to their output.
inline const AttrSpec kRelu{"relu", AttrKind::kBool, false};

// Example inputs (OpDef::examples).
inline ExampleInput f32(Shape shape, Fill fill = Fill::kUniform) {
  return {{DType::f32, std::move(shape)}, fill};
}
inline ExampleInput i32(Shape shape) { return {{DType::i32, std::move(shape)}}; }
inline ExampleInput bf16(Shape shape, Fill fill = Fill::kUniform) {
  return {{DType::bf16, std::move(shape)}, fill};
}

// conv2d's window attributes, and the output shape of a convolution of `x` by a weight of shape `w`
// (validating them).
extern const AttrSpec kStride, kPadding, kDilation, kGroups;
Shape conv_output_shape(const OpCall& call, const Shape& x, const Shape& w);

// The inputs joined along `axis` (concat's output), or Error saying which input does not fit.
TensorType concatenated(const std::vector<TensorType>& inputs, int64_t axis);

// batch_norm's checks, shared with the fused ops: the channel type of x [N,C] or [N,C,H,W]; inputs at
// `indices` (called `names`) of that type; eps (positive) and momentum; beta at input `beta` given exactly
// with relu.
extern const AttrSpec kEps, kMomentum;
TensorType channel_type(const TensorType& x);
void expect_channel_inputs(const OpCall& call, const TensorType& channel, std::initializer_list<int> indices,
                           std::initializer_list<const char*> names);
void check_eps(const OpCall& call);
void check_norm_attrs(const OpCall& call, bool training, const TensorType& x);
void expect_relu_beta(const OpCall& call, size_t beta);

// Each op family adds its definitions to the registry.
using OpList = std::vector<OpDef>;
void add_conv_ops(OpList& ops);
void add_norm_ops(OpList& ops);
void add_pool_ops(OpList& ops);
void add_elementwise_ops(OpList& ops);
void add_softmax_ops(OpList& ops);
void add_shape_ops(OpList& ops);
void add_linear_ops(OpList& ops);
void add_loss_ops(OpList& ops);
void add_optimizer_ops(OpList& ops);
void add_fused_ops(OpList& ops);
void add_collective_ops(OpList& ops);

}  // namespace stratum::ops
