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

Tensor random_tensor(const TensorType& type, std::mt19937_64& rng) {
  Tensor t(type);
  std::uniform_real_distribution<float> uniform(-1, 1);
  for (int64_t i = 0; i < t.size(); ++i) {
    if (type.dtype == DType::i32) {
      t.i32()[i] = static_cast<int32_t>(rng() % 10);
    } else {
      t.f32()[i] = uniform(rng);
    }
  }
  return t;
}

std::map<std::string, Tensor> random_feeds(const Graph& graph, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::map<std::string, Tensor> feeds;
  for (const Value* input : graph.leaves_of(ValueKind::kInput))
    feeds[input->name()] = random_tensor(input->type(), rng);
  return feeds;
}

}  // namespace stratum
