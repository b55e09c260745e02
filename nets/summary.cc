#include "nets/summary.h"

#include <fmt/format.h>

#include <set>
#include <vector>

namespace stratum {

namespace {

// The params a value comes from: itself, or those of a node that computes from params alone (a batch norm
// folded into a conv's weights); empty for anything computed from the inputs.
std::vector<const Value*> param_sources(const Value* value) {
  if (value->kind() == ValueKind::kParam) return {value};
  const Node* producer = value->producer();
  if (producer == nullptr) return {};
  std::vector<const Value*> params;
  for (const Value* input : producer->inputs()) {
    if (input->kind() == ValueKind::kState) continue;
    const auto sources = param_sources(input);
    if (sources.empty()) return {};
    params.insert(params.end(), sources.begin(), sources.end());
  }
  return params;
}

// "conv2d", or with what fusion put in: "conv2d+residual+relu".
std::string op_label(const Node& node) {
  std::string label = node.op_name();
  if (node.op_name() == "conv2d" && node.inputs().size() == 4) label += "+residual";
  const auto relu = node.attrs().find("relu");
  if (relu != node.attrs().end() && std::get<bool>(relu->second)) label += "+relu";
  return label;
}

}  // namespace

std::string layer_summary(const Graph& graph) {
  std::string text = fmt::format("{:<26} {:<38} {:<18} {:>12}\n", "op", "layer", "output shape", "params");
  std::set<const Value*> counted;  // a param folded into a conv counts once, at the conv
  int64_t total = 0;
  for (const auto& node : graph.nodes()) {
    if (node->op_name() == "fold_batch_norm") continue;  // shown as the conv it feeds
    std::string layer;
    int64_t params = 0;
    for (const Value* input : node->inputs()) {
      for (const Value* param : param_sources(input)) {
        const std::string name = param->name().substr(0, param->name().rfind('.'));
        if (layer.find(name) == std::string::npos) layer += (layer.empty() ? "" : "+") + name;
        if (counted.insert(param).second) params += param->type().num_elements();
      }
    }
    total += params;
    text +=
        fmt::format("{:<26} {:<38} {:<18} {:>12}\n", op_label(*node), layer.empty() ? "-" : layer,
                    shape_str(node->output()->type().shape), params == 0 ? "" : fmt::format("{:L}", params));
    if (node->op_name() == "softmax_cross_entropy") break;
  }
  return text + fmt::format("{:<84} {:>12}\n", "total", total);
}

}  // namespace stratum
