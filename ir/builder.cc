#include "ir/builder.h"

namespace stratum {

namespace {

std::vector<Value*> with_optional(std::vector<Value*> inputs, Value* optional) {
  if (optional != nullptr) inputs.push_back(optional);
  return inputs;
}

Attrs pool_attrs(const PoolAttrs& attrs) {
  return {{"kernel", attrs.kernel}, {"stride", attrs.stride}, {"padding", attrs.padding}};
}

}  // namespace

Value* Builder::op(std::string_view name, std::vector<Value*> inputs, Attrs attrs) {
  return graph_.add_node(name, std::move(inputs), std::move(attrs))->output(0);
}

Value* Builder::conv2d(Value* x, Value* weight, Value* bias, const ConvAttrs& attrs) {
  return op("conv2d", with_optional({x, weight}, bias),
            {{"stride", attrs.stride},
             {"padding", attrs.padding},
             {"dilation", attrs.dilation},
             {"groups", attrs.groups}});
}

BatchNormOutputs Builder::batch_norm(Value* x, Value* gamma, Value* beta, Value* running_mean,
                                     Value* running_var, const BatchNormAttrs& attrs) {
  Node* node =
      graph_.add_node("batch_norm", {x, gamma, beta, running_mean, running_var},
                      {{"eps", attrs.eps}, {"momentum", attrs.momentum}, {"training", attrs.training}});
  if (!attrs.training) return {node->output(0), nullptr, nullptr};
  return {node->output(0), node->output(3), node->output(4)};
}

Value* Builder::dropout(Value* x, Value* key, double p, int64_t seed, bool training) {
  return op("dropout", {x, key}, {{"p", p}, {"seed", seed}, {"training", training}});
}

Value* Builder::max_pool(Value* x, const PoolAttrs& attrs) { return op("max_pool", {x}, pool_attrs(attrs)); }

Value* Builder::avg_pool(Value* x, const PoolAttrs& attrs) {
  Attrs pool = pool_attrs(attrs);
  pool["count_include_pad"] = attrs.count_include_pad;
  return op("avg_pool", {x}, pool);
}

Value* Builder::linear(Value* x, Value* weight, Value* bias) {
  return op("linear", with_optional({x, weight}, bias));
}

LossOutputs Builder::softmax_cross_entropy(Value* logits, Value* labels) {
  Node* node = graph_.add_node("softmax_cross_entropy", {logits, labels});
  return {node->output(0), node->output(1)};
}

}  // namespace stratum
