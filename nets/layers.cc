#include "nets/layers.h"

#include <cmath>

namespace stratum {

Value* Layers::param(const std::string& name, Shape shape, Init init) {
  return graph_.add_param(name, {DType::f32, std::move(shape)}, init);
}

Value* Layers::conv(const std::string& name, Value* x, int64_t out_channels, int64_t kernel,
                    const ConvAttrs& attrs) {
  const int64_t in_channels = x->type().shape[1] / attrs.groups;
  const double fan_in = double(in_channels * kernel * kernel);
  Value* weight =
      param(name + ".weight", {out_channels, in_channels, kernel, kernel}, {Init::kXavierUniform});
  Value* bias = param(name + ".bias", {out_channels}, {Init::kUniform, 1 / std::sqrt(fan_in)});
  return ops_.conv2d(x, weight, bias, attrs);
}

Value* Layers::batch_norm(const std::string& name, Value* x) {
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

}  // namespace stratum
