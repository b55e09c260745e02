// bf16 mixed precision: the forward graph's convolutions, matrix products, batch norms, activations, pools
// and the data movement between them compute on bf16 activations and bf16 copies of the weights, while the
// params (the master weights), batch norm's channel vectors and statistics, and the loss stay f32. Run it
// before autodiff: the casts it inserts have gradients, so the weights' gradients reach the optimizer in
// f32.
#pragma once

#include <string_view>

#include "passes/pass.h"

namespace stratum {

// Casts every f32 input of rank 2 or more (activations and weights, not channel vectors) of the ops that run
// in bf16 to bf16, and every bf16 input of the other ops (softmax, the loss) back to f32; a graph output
// that would become bf16 is cast back to f32. One cast per value and dtype. Error on a graph that has a
// backward (run it before autodiff).
class Bf16Pass : public Pass {
 public:
  std::string_view name() const override { return "bf16"; }
  bool run(Graph& graph) override;
};

// Registered as "bf16"; takes no options.
PassFactory bf16_pass_factory();

}  // namespace stratum
