#include "nets/layers.h"

#include <cmath>
#include <map>

#include "ir/op.h"

namespace stratum {

Value* Layers::param(const std::string& name, Shape shape, Init init) {
  return graph_.add_param(name, {DType::f32, std::move(shape)}, init);
}

Value* Layers::conv(const std::string& name, Value* x, int64_t out_channels, int64_t kernel,
                    const ConvAttrs& attrs) {
  Graph::OriginScope origin(graph_, name);
  const int64_t in_channels = x->type().shape[1] / attrs.groups;
  const double fan_in = double(in_channels * kernel * kernel);
  Value* weight =
      param(name + ".weight", {out_channels, in_channels, kernel, kernel}, {Init::kXavierUniform});
  Value* bias = param(name + ".bias", {out_channels}, {Init::kUniform, 1 / std::sqrt(fan_in)});
  return ops_.conv2d(x, weight, bias, attrs);
}

Value* Layers::batch_norm(const std::string& name, Value* x) {
  Graph::OriginScope origin(graph_, name);
  const Shape channels = {x->type().shape[1]};
  Value* gamma = param(name + ".gamma", channels, {Init::kOnes});
  Value* beta = param(name + ".beta", channels, {Init::kZeros});
  Value* mean = graph_.add_state(name + ".running_mean", {DType::f32, channels}, {Init::kZeros});
  Value* var = graph_.add_state(name + ".running_var", {DType::f32, channels}, {Init::kOnes});
  return batch_norm(x, {gamma, beta, mean, var});
}

Value* Layers::batch_norm(Value* x, const BatchNormParams& p, BatchNormAttrs attrs) {
  attrs.training = training_;
  BatchNormOutputs bn = ops_.batch_norm(x, p.gamma, p.beta, p.running_mean, p.running_var, attrs);
  if (training_) {
    graph_.add_update(p.running_mean, bn.new_running_mean);
    graph_.add_update(p.running_var, bn.new_running_var);
  }
  return bn.y;
}

Value* Layers::linear(const std::string& name, Value* x, int64_t out_features) {
  Graph::OriginScope origin(graph_, name);
  const int64_t in_features = x->type().shape[1];
  Value* weight = param(name + ".weight", {out_features, in_features}, {Init::kXavierUniform});
  Value* bias = param(name + ".bias", {out_features}, {Init::kUniform, 1 / std::sqrt(double(in_features))});
  return ops_.linear(x, weight, bias);
}

Value* Layers::dropout(Value* x, double p) {
  if (!training_) return x;
  if (step_ == nullptr) step_ = graph_.add_input("step", {DType::i32, {}});
  return ops_.dropout(x, step_, p, ++dropouts_);
}

void Layers::loss(Value* logits, Value* labels) {
  LossOutputs out = ops_.softmax_cross_entropy(logits, labels);
  graph_.rename(out.loss, "loss");
  graph_.rename(out.correct, "correct");
  graph_.add_output(out.loss);
  graph_.add_output(out.correct);
}

namespace {

// The layer of the first param or state the node reads; empty when it reads none.
std::string leaf_layer(const Node& node) {
  for (const Value* input : node.inputs()) {
    if (input->kind() != ValueKind::kParam && input->kind() != ValueKind::kState) continue;
    const size_t dot = input->name().rfind('.');
    return dot == 0 || dot == std::string::npos ? input->name() : input->name().substr(0, dot);
  }
  return "";
}

// An elementwise node's one computed input's producer, or null.
const Node* activation_source(const Node& node) {
  if (!node.op().traits.elementwise) return nullptr;
  const Node* source = nullptr;
  for (const Value* input : node.inputs()) {
    if (input->is_leaf()) continue;
    if (source != nullptr) return nullptr;
    source = input->producer();
  }
  return source;
}

}  // namespace

void name_layers(Graph& graph) {
  auto own_layer = [](const Node& node) {
    return node.origin().empty() && leaf_layer(node).empty() && activation_source(node) == nullptr;
  };
  std::map<std::string, int> count, seen;
  for (const auto& node : graph.nodes()) count[node->op_name()] += own_layer(*node);
  for (const auto& node : graph.nodes()) {
    if (!node->origin().empty()) continue;
    const std::string& op = node->op_name();
    std::string origin = leaf_layer(*node);
    if (const Node* source = activation_source(*node); origin.empty() && source) origin = source->origin();
    if (origin.empty()) origin = count[op] > 1 ? op + std::to_string(++seen[op]) : op;
    graph.set_origin(node.get(), origin);
  }
}

}  // namespace stratum
