// Pooling moved ahead of the op before it, where the two commute:
// - avg_pool(conv2d(x)) -> conv2d(avg_pool(x)) for a 1×1 conv at stride 1 without padding, and a pool
//   without padding: both are linear and act on different axes (the bias, constant over a window, averages
//   to itself), and pooled first the conv does a quarter of the work behind a 2×2 pool (DenseNet's
//   transitions). Always.
// - max_pool(relu(x)) -> relu(max_pool(x)) (the largest of a window's values is positive exactly when its
//   largest rectified value is, and the gradient goes to the same element): the relu and its gradient touch
//   a quarter of the elements. In training the larger win is memory: the relu's gradient reads the relu's
//   output, which relu-first keeps at full size from the forward to the backward; pooled first, it keeps
//   only the pooled one, and max_pool's gradient needs no more than the forward's workspace where the plugin
//   keeps one (oneDNN). AlexNet's step: 218 MiB less. Only with `max_pools` (build_step: in training): in
//   inference the relu is a free post-op of the conv before it, and pooling first measured 3-6% slower.
// Runs on the forward graph, before autodiff, where the pooled op's output has no other reader.
#pragma once

#include <string_view>

#include "passes/pass.h"

namespace stratum {

class PoolFirstPass : public Pass {
 public:
  explicit PoolFirstPass(bool max_pools = true) : max_pools_(max_pools) {}
  std::string_view name() const override { return "pool_first"; }
  bool run(Graph& graph) override;
  int rewrites() const override { return rewrites_; }

 private:
  bool max_pools_;
  int rewrites_ = 0;
};

// Registered as "pool_first"; takes no options (both rewrites).
PassFactory pool_first_pass_factory();

}  // namespace stratum
