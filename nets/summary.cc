#include "nets/summary.h"

#include <fmt/format.h>

namespace stratum {

std::string layer_summary(const Graph& graph) {
  std::string text = fmt::format("{:<22} {:<28} {:<22} {:>12}\n", "op", "layer", "output shape", "params");
  int64_t total = 0;
  for (const auto& node : graph.nodes()) {
    std::string layer = "-";
    int64_t params = 0;
    for (const Value* input : node->inputs()) {
      if (input->kind() != ValueKind::kParam) continue;
      if (layer == "-") layer = input->name().substr(0, input->name().rfind('.'));
      params += input->type().num_elements();
    }
    total += params;
    text +=
        fmt::format("{:<22} {:<28} {:<22} {:>12}\n", node->op_name(), layer,
                    shape_str(node->output()->type().shape), params == 0 ? "" : fmt::format("{:L}", params));
    if (node->op_name() == "softmax_cross_entropy") break;
  }
  return text + fmt::format("{:<74} {:>12}\n", "total", total);
}

}  // namespace stratum
