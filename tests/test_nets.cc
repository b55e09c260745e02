#include "tests/test_nets.h"

#include <cmath>

#include "ir/builder.h"

namespace stratum::testing {

namespace {

TensorType f32(Shape shape) { return {DType::f32, std::move(shape)}; }

// Layers with their params, initialised as PyTorch does (Xavier for weights).
class Layers {
 public:
  Layers(Graph& graph, bool training = true) : g(graph), b(graph), training(training) {}

  Value* conv(const std::string& name, Value* x, int64_t out_channels, int64_t k,
              const ConvAttrs& attrs = {}) {
    const int64_t in_channels = x->type().shape[1] / attrs.groups;
    Value* w = g.add_param(name + ".weight", f32({out_channels, in_channels, k, k}), {Init::kXavierUniform});
    Value* bias = g.add_param(name + ".bias", f32({out_channels}),
                              {Init::kUniform, 1 / std::sqrt(in_channels * k * k)});
    return b.conv2d(x, w, bias, attrs);
  }

  Value* batch_norm(const std::string& name, Value* x) {
    const int64_t c = x->type().shape[1];
    Value* mean = g.add_state(name + ".running_mean", f32({c}), {Init::kZeros});
    Value* var = g.add_state(name + ".running_var", f32({c}), {Init::kOnes});
    BatchNormOutputs bn = b.batch_norm(x, g.add_param(name + ".gamma", f32({c}), {Init::kOnes}),
                                       g.add_param(name + ".beta", f32({c}), {Init::kZeros}), mean, var,
                                       {.training = training});
    if (!training) return bn.y;
    g.add_update(mean, bn.new_running_mean);
    g.add_update(var, bn.new_running_var);
    return bn.y;
  }

  Value* linear(const std::string& name, Value* x, int64_t out_features) {
    const int64_t in_features = x->type().shape[1];
    Value* w = g.add_param(name + ".weight", f32({out_features, in_features}), {Init::kXavierUniform});
    Value* bias =
        g.add_param(name + ".bias", f32({out_features}), {Init::kUniform, 1 / std::sqrt(in_features)});
    return b.linear(x, w, bias);
  }

  void loss(Value* logits, Value* labels) {
    LossOutputs out = b.softmax_cross_entropy(logits, labels);
    g.rename(out.loss, "loss");
    g.rename(out.correct, "correct");
    g.add_output(out.loss);
    g.add_output(out.correct);
  }

  Graph& g;
  Builder b;
  bool training;
};

}  // namespace

std::unique_ptr<Graph> every_op_net(int64_t batch, bool training) {
  auto graph = std::make_unique<Graph>("every_op");
  Layers l(*graph, training);
  Builder& b = l.b;
  Value* x = graph->add_input("x", f32({batch, 3, 8, 8}));
  Value* labels = graph->add_input("labels", {DType::i32, {batch}});
  Value* key = graph->add_input("key", {DType::i32, {}});
  Value* h = b.relu(l.batch_norm("bn1", l.conv("conv1", x, 4, 3, {.padding = {1, 1}})));
  Value* grouped = l.conv("conv2", h, 4, 3, {.padding = {2, 2}, .dilation = {2, 2}, .groups = 2});
  h = b.add(h, b.sigmoid(grouped));  // residual: h fans out
  const PoolAttrs pool = {.kernel = {3, 3}, .stride = {2, 2}, .padding = {1, 1}};
  h = l.batch_norm("bn3", b.concat({b.max_pool(h, pool), b.avg_pool(b.sigmoid(h), pool)}));
  h = b.dropout(l.conv("conv3", h, 6, 1, {.stride = {2, 2}}), key, 0.25, 7, training);
  h = b.flatten(b.global_avg_pool(h));
  h = b.softmax(b.reshape(l.linear("fc1", h, 8), {batch, 2, 2, 2}), /*axis=*/2);
  h = b.sigmoid(l.batch_norm("bn2", b.flatten(h)));
  l.loss(l.linear("fc2", h, 5), labels);
  return graph;
}

std::unique_ptr<Graph> residual_concat_net(int64_t batch) {
  auto graph = std::make_unique<Graph>("residual_concat");
  Layers l(*graph);
  Builder& b = l.b;
  Value* x = graph->add_input("x", f32({batch, 2, 6, 6}));
  Value* labels = graph->add_input("labels", {DType::i32, {batch}});
  const ConvAttrs same = {.padding = {1, 1}};
  Value* stem = b.relu(l.conv("stem", x, 4, 3, same));
  Value* branch = l.conv("branch", b.relu(l.conv("inner", stem, 4, 3, same)), 4, 3, same);
  Value* residual = b.relu(b.add(branch, stem));
  Value* side = b.sigmoid(l.conv("side", stem, 2, 1));
  Value* pooled = b.avg_pool(b.concat({residual, side, stem}), {.kernel = {2, 2}, .stride = {2, 2}});
  l.loss(l.linear("fc", b.flatten(pooled), 3), labels);
  return graph;
}

}  // namespace stratum::testing
