// Autodiff: reverse mode over the graph, from each op's gradient builder in the registry.
#pragma once

#include <string>
#include <vector>

#include "ir/graph.h"
#include "ir/op_attrs.h"
#include "passes/pass.h"

namespace stratum {

// Appends the nodes that compute d(y·dy)/dw for each w in `wrt` and returns those gradients, in order.
// Each backward node has the origin of the forward node it differentiates (a sum where a value fans out: of
// the node whose gradient it adds). Gradients are summed where a value fans out. A w that gets no gradient
// (it does not affect y, or only through inputs without one, like batch_norm's running statistics) is an
// Error naming it, or null when `allow_missing`.
std::vector<Value*> build_gradients(Graph& graph, Value* y, Value* dy, const std::vector<Value*>& wrt,
                                    bool allow_missing = false);

// Turns a forward graph whose output `loss` (default: the first output) is an f32[] scalar into one
// training step: forward, backward, and the optimizer's update of every param (passes/optimizer.h: the
// learning rate is an input, %lr), declared as the param's update. The nodes it appends are marked backward
// (Node::backward), which is how passes tell the two apart. Outputs and the forward graph's own updates
// (batch-norm running statistics) stay as they are. The seed of the loss's gradient has the loss node's
// origin, and a param's update its gradient's. With `data_parallel`, each update reads its gradient
// averaged over the ranks (passes/data_parallel.h).
void build_training_step(Graph& graph, const OptimizerAttrs& optimizer = {}, const std::string& loss = "",
                         bool data_parallel = false);

// build_training_step as a pass.
class AutodiffPass : public Pass {
 public:
  AutodiffPass(OptimizerAttrs optimizer, std::string loss)
      : optimizer_(std::move(optimizer)), loss_(std::move(loss)) {}
  std::string_view name() const override { return "autodiff"; }
  bool run(Graph& graph) override;

 private:
  OptimizerAttrs optimizer_;
  std::string loss_;
};

// Registered as "autodiff"; options optimizer (sgd, sgdw, adam, adamw; default sgd), momentum, nesterov (0 or
// 1), weight_decay, clip_norm, and loss (a value name; default the first output).
PassFactory autodiff_pass_factory();

}  // namespace stratum
