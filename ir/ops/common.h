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
// A list of `count` ints, each at least `min`.
void expect_ints(const OpCall& call, const std::string& attr, size_t count, int64_t min);
void expect_same_type(const TensorType& a, const TensorType& b, const char* what);

// The single output of a new node; used by gradient builders.
Value* emit(Graph& graph, std::string_view op, std::vector<Value*> inputs, Attrs attrs = {});
// A copy of the node's attributes with some replaced or added.
Attrs with(const Attrs& attrs, const Attrs& extra);

// Each op family adds its definitions to the registry.
using OpList = std::vector<OpDef>;
void add_conv_ops(OpList& ops);
void add_norm_ops(OpList& ops);
void add_pool_ops(OpList& ops);
void add_elementwise_ops(OpList& ops);
void add_shape_ops(OpList& ops);
void add_linear_ops(OpList& ops);
void add_loss_ops(OpList& ops);

}  // namespace stratum::ops
