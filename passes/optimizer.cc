#include "passes/optimizer.h"

#include <algorithm>

#include "ir/error.h"

namespace stratum {

namespace {

bool is_adam(const OptimizerAttrs& o) { return o.kind == "adam" || o.kind == "adamw"; }
bool decoupled(const OptimizerAttrs& o) { return o.kind == "sgdw" || o.kind == "adamw"; }

void expect_in(const std::string& name, double value, double low, double high, bool high_included) {
  if (!(value >= low && (high_included ? value <= high : value < high)))
    fail("{} must be in [{},{}{}, got {}", name, low, high, high_included ? "]" : ")", value);
}

// The update op of one param and the states it adds, as the optimizer says, right after its inputs.
Node* update_node(Graph& graph, Value* param, Value* grad, Value* lr, Value* scale, Value* step,
                  const OptimizerAttrs& o) {
  auto state = [&](const char* suffix) {
    return graph.add_state(param->name() + suffix, param->type(), Init{Init::kZeros});
  };
  auto add = [&](const char* op, std::vector<Value*> inputs, const Attrs& attrs) {
    if (scale != nullptr) inputs.push_back(scale);
    return graph.add_node(op, inputs, attrs, {}, after_producers(graph, inputs));
  };
  Attrs attrs = {{"weight_decay", o.weight_decay}, {"decoupled", decoupled(o)}};
  if (is_adam(o)) {
    attrs.insert({{"beta1", o.beta1}, {"beta2", o.beta2}, {"eps", o.eps}});
    Value *m = state(".adam_m"), *v = state(".adam_v");
    Node* node = add("adam_update", {param, grad, m, v, step, lr}, attrs);
    graph.add_update(m, node->output(1));
    graph.add_update(v, node->output(2));
    return node;
  }
  if (o.momentum == 0) return add("sgd_update", {param, grad, lr}, attrs);
  attrs.insert({{"momentum", o.momentum}, {"nesterov", o.nesterov}});
  Value* velocity = state(".momentum");
  Node* node = add("momentum_update", {param, grad, velocity, lr}, attrs);
  graph.add_update(velocity, node->output(1));
  return node;
}

// Adam's step count: %adam.step + 1, the state's update, computed first.
Value* next_step(Graph& graph) {
  Value* step = graph.add_state("adam.step", {DType::f32, {}}, Init{Init::kZeros});
  const Node* first = graph.nodes().empty() ? nullptr : graph.nodes().front().get();
  Value* one = graph.add_node("fill", {}, {{"value", 1.0}, {"shape", Ints{}}}, {}, first)->output(0);
  Value* next = graph.add_node("add", {step, one}, {}, {}, first)->output(0);
  graph.add_update(step, next);
  return next;
}

}  // namespace

// An update placed after_producers runs as soon as its gradient is ready, so the gradient's buffer is free
// for the rest of the backward pass.
const Node* after_producers(const Graph& graph, const std::vector<Value*>& inputs) {
  int last = -1;
  for (const Value* input : inputs) {
    if (input->producer() != nullptr) last = std::max(last, graph.index_of(input->producer()));
  }
  const size_t next = static_cast<size_t>(last + 1);
  return next < graph.nodes().size() ? graph.nodes()[next].get() : nullptr;
}

void check_optimizer(const OptimizerAttrs& o, const SettingName& name) {
  auto named = [&name](const std::string& setting) { return name ? name(setting) : setting; };
  if (o.kind != "sgd" && o.kind != "sgdw" && !is_adam(o))
    fail("{} must be sgd, sgdw, adam or adamw, got '{}'", named("optimizer"), o.kind);
  expect_in(named("momentum"), o.momentum, 0, 1, false);
  if (o.nesterov && o.momentum == 0) fail("{} needs a {} above 0", named("nesterov"), named("momentum"));
  if (is_adam(o) && o.momentum != 0)
    fail("{} is SGD's; adam has {} instead", named("momentum"), named("beta1"));
  expect_in(named("weight_decay"), o.weight_decay, 0, 1, true);
  expect_in(named("beta1"), o.beta1, 0, 1, false);
  expect_in(named("beta2"), o.beta2, 0, 1, false);
  if (!(o.eps > 0)) fail("{} must be positive, got {}", named("eps"), o.eps);
  if (!(o.clip_norm >= 0)) fail("{} must be 0 (none) or positive, got {}", named("clip_norm"), o.clip_norm);
}

void add_optimizer_step(Graph& graph, const std::vector<Value*>& params, const std::vector<Value*>& grads,
                        const OptimizerAttrs& optimizer) {
  check_optimizer(optimizer);
  Value* lr = graph.add_input("lr", {DType::f32, {}});
  Value *scale = nullptr, *step = nullptr;
  {
    Graph::OriginScope scope(graph, "optimizer");
    if (optimizer.clip_norm > 0)
      scale = graph.add_node("global_norm_scale", grads, {{"max_norm", optimizer.clip_norm}})->output(0);
    if (is_adam(optimizer)) step = next_step(graph);
  }
  for (size_t i = 0; i < params.size(); ++i) {
    Graph::OriginScope scope(graph, grads[i]->producer() ? grads[i]->producer()->origin() : "");
    graph.add_update(params[i],
                     update_node(graph, params[i], grads[i], lr, scale, step, optimizer)->output(0));
  }
}

}  // namespace stratum
