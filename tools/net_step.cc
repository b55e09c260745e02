#include "tools/net_step.h"

namespace stratum {

double forward_flops_per_image(const StepSpec& spec) {
  const auto graph = build_net(*spec.net, /*batch=*/1, /*training=*/false, spec.size_or_recipe());
  double flops = 0;
  for (const auto& node : graph->nodes()) {
    if (node->op_name() != "conv2d" && node->op_name() != "linear") continue;
    const Shape& weight = node->input(1)->type().shape;  // [out, in/groups, k, k] or [out, in]
    const double macs_per_output = double(num_elements(weight)) / weight[0];
    flops += 2 * macs_per_output * node->output()->type().num_elements();
  }
  return flops;
}

}  // namespace stratum
