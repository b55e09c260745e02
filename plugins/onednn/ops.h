// The op compilers: one function per op turns a node into steps of the program being compiled.
#pragma once

#include <string_view>

#include "ir/graph.h"
#include "plugins/onednn/compiler.h"

namespace stratum::onednn {

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

// The bias_grad node later in the subgraph that sums the same `dy` as `node`, a weight gradient, claimed so
// that node's primitive computes the bias gradient on the way; null when there is none.
const Node* claim_bias_grad(const Node& node, const Value* dy, Compiler& compiler);

// A node's output with the relu that alone reads it fused in, where there is one: the node's primitive
// applies it as a post-op (`attr`) and writes the relu's output instead.
struct ReluFusion {
  ReluFusion(const Value* output, Compiler& compiler);
  const Value* output;  // what the primitive writes
  dnnl::primitive_attr attr;
};

// relu_grad(dy, y) -> dz where only batch_norm_grad reads dz, and y is the relu a batch_norm fused in here:
// computes that batch_norm_grad from dy now (its other inputs are forward values), the relu's mask coming
// from the forward's workspace, and claims it. False, doing nothing, where that does not hold.
bool fuse_into_batch_norm_grad(const Node& relu_grad, Compiler& compiler);

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
