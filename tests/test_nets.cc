#include "tests/test_nets.h"

#include <cmath>

namespace stratum::testing {

namespace {

TensorType f32(Shape shape) { return {DType::f32, std::move(shape)}; }

Value* out(Graph& g, std::string_view op, std::vector<Value*> inputs, Attrs attrs = {}) {
  return g.add_node(op, std::move(inputs), std::move(attrs))->output(0);
}

Value* conv(Graph& g, const std::string& name, Value* x, int64_t out_channels, int64_t k, Attrs attrs = {}) {
  const int64_t groups = attrs.count("groups") ? std::get<int64_t>(attrs.at("groups")) : 1;
  const int64_t in_channels = x->type().shape[1] / groups;
  Value* w = g.add_param(name + ".weight", f32({out_channels, in_channels, k, k}), {Init::kXavierUniform});
  Value* b =
      g.add_param(name + ".bias", f32({out_channels}), {Init::kUniform, 1 / std::sqrt(in_channels * k * k)});
  return out(g, "conv2d", {x, w, b}, std::move(attrs));
}

Value* batch_norm(Graph& g, const std::string& name, Value* x) {
  const int64_t c = x->type().shape[1];
  Value* gamma = g.add_param(name + ".gamma", f32({c}), {Init::kOnes});
  Value* beta = g.add_param(name + ".beta", f32({c}), {Init::kZeros});
  Value* mean = g.add_state(name + ".running_mean", f32({c}), {Init::kZeros});
  Value* var = g.add_state(name + ".running_var", f32({c}), {Init::kOnes});
  Node* bn = g.add_node("batch_norm", {x, gamma, beta, mean, var});
  g.add_update(mean, bn->output(3));
  g.add_update(var, bn->output(4));
  return bn->output(0);
}

Value* linear(Graph& g, const std::string& name, Value* x, int64_t out_features) {
  const int64_t in_features = x->type().shape[1];
  Value* w = g.add_param(name + ".weight", f32({out_features, in_features}), {Init::kXavierUniform});
  Value* b = g.add_param(name + ".bias", f32({out_features}), {Init::kUniform, 1 / std::sqrt(in_features)});
  return out(g, "linear", {x, w, b});
}

void add_loss(Graph& g, Value* logits, Value* labels) {
  Node* loss = g.add_node("softmax_cross_entropy", {logits, labels}, {}, {"loss", "correct"});
  g.add_output(loss->output(0));
  g.add_output(loss->output(1));
}

}  // namespace

std::unique_ptr<Graph> every_op_net(int64_t batch) {
  auto g = std::make_unique<Graph>("every_op");
  Value* x = g->add_input("x", f32({batch, 3, 8, 8}));
  Value* labels = g->add_input("labels", {DType::i32, {batch}});
  Value* key = g->add_input("key", {DType::i32, {}});
  Value* h = out(*g, "relu", {batch_norm(*g, "bn1", conv(*g, "conv1", x, 4, 3, {{"padding", Ints{1, 1}}}))});
  Value* grouped =
      conv(*g, "conv2", h, 4, 3, {{"padding", Ints{2, 2}}, {"dilation", Ints{2, 2}}, {"groups", int64_t{2}}});
  h = out(*g, "add", {h, out(*g, "sigmoid", {grouped})});  // residual: h fans out
  Value* a =
      out(*g, "max_pool", {h}, {{"kernel", Ints{3, 3}}, {"stride", Ints{2, 2}}, {"padding", Ints{1, 1}}});
  Value* b =
      out(*g, "avg_pool", {h}, {{"kernel", Ints{3, 3}}, {"stride", Ints{2, 2}}, {"padding", Ints{1, 1}}});
  h = out(*g, "concat", {a, b});
  h = conv(*g, "conv3", h, 6, 1, {{"stride", Ints{2, 2}}});
  h = out(*g, "dropout", {h, key}, {{"p", 0.25}, {"seed", int64_t{7}}});
  h = out(*g, "flatten", {out(*g, "global_avg_pool", {h})});
  h = out(*g, "reshape", {linear(*g, "fc1", h, 8)}, {{"shape", Ints{batch, 2, 2, 2}}});
  h = out(*g, "sigmoid", {batch_norm(*g, "bn2", out(*g, "flatten", {h}))});
  add_loss(*g, linear(*g, "fc2", h, 5), labels);
  return g;
}

std::unique_ptr<Graph> residual_concat_net(int64_t batch) {
  auto g = std::make_unique<Graph>("residual_concat");
  Value* x = g->add_input("x", f32({batch, 2, 6, 6}));
  Value* labels = g->add_input("labels", {DType::i32, {batch}});
  Value* stem = out(*g, "relu", {conv(*g, "stem", x, 4, 3, {{"padding", Ints{1, 1}}})});
  Value* branch =
      conv(*g, "branch", out(*g, "relu", {conv(*g, "inner", stem, 4, 3, {{"padding", Ints{1, 1}}})}), 4, 3,
           {{"padding", Ints{1, 1}}});
  Value* residual = out(*g, "relu", {out(*g, "add", {branch, stem})});
  Value* side = out(*g, "sigmoid", {conv(*g, "side", stem, 2, 1)});
  Value* joined = out(*g, "concat", {residual, side, stem});
  Value* pooled = out(*g, "avg_pool", {joined}, {{"kernel", Ints{2, 2}}, {"stride", Ints{2, 2}}});
  add_loss(*g, linear(*g, "fc", out(*g, "flatten", {pooled}), 3), labels);
  return g;
}

}  // namespace stratum::testing
