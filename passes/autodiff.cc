#include "passes/autodiff.h"

#include <unordered_map>
#include <unordered_set>

#include "ir/error.h"
#include "ir/op.h"
#include "ir/printer.h"
#include "passes/data_parallel.h"
#include "passes/optimizer.h"

namespace stratum {

namespace {

// The nodes on a path from some w in `wrt` to `y`, in graph order.
std::vector<Node*> nodes_between(const Graph& graph, const std::vector<Value*>& wrt, Value* y) {
  std::unordered_set<const Value*> reaches_from_wrt(wrt.begin(), wrt.end());
  std::vector<Node*> forward;
  for (const auto& node : graph.nodes()) {
    bool reached = false;
    for (Value* input : node->inputs()) reached |= reaches_from_wrt.count(input) > 0;
    if (!reached) continue;
    forward.push_back(node.get());
    for (Value* out : node->outputs()) reaches_from_wrt.insert(out);
  }
  std::unordered_set<const Value*> needed = {y};
  std::vector<Node*> between;
  for (auto it = forward.rbegin(); it != forward.rend(); ++it) {
    bool feeds_y = false;
    for (Value* out : (*it)->outputs()) feeds_y |= needed.count(out) > 0;
    if (!feeds_y) continue;
    between.insert(between.begin(), *it);
    for (Value* input : (*it)->inputs()) needed.insert(input);
  }
  return between;
}

}  // namespace

std::vector<Value*> build_gradients(Graph& graph, Value* y, Value* dy, const std::vector<Value*>& wrt,
                                    bool allow_missing) {
  if (y->type() != dy->type())
    fail("the seed gradient {} does not match {}", type_str(dy->type()), type_str(y->type()));
  std::unordered_map<const Value*, Value*> grads = {{y, dy}};
  const std::vector<Node*> between = nodes_between(graph, wrt, y);
  std::unordered_set<const Value*> wanted(wrt.begin(), wrt.end());
  for (const Node* node : between) {
    for (Value* out : node->outputs()) wanted.insert(out);
  }
  for (auto it = between.rbegin(); it != between.rend(); ++it) {
    const Node& node = **it;
    std::vector<Value*> output_grads;
    bool any = false;
    for (Value* out : node.outputs()) {
      auto found = grads.find(out);
      output_grads.push_back(found == grads.end() ? nullptr : found->second);
      any |= output_grads.back() != nullptr;
    }
    if (!any) continue;
    if (node.op().grad == nullptr) fail("autodiff: {} is not differentiable", node.label());
    if (is_fused(node)) fail("autodiff: {} is fused and has no gradient: fuse after autodiff", node.label());
    Graph::OriginScope scope(graph, node.origin());  // its backward, and the sums of what it fans out to
    std::vector<Value*> input_grads;
    try {
      input_grads = node.op().grad(GradCall{graph, node, output_grads});
    } catch (const Error& e) {
      fail("autodiff: gradient of {}: {}", node.label(), e.what());
    }
    for (size_t i = 0; i < input_grads.size(); ++i) {
      Value *input = node.input(i), *grad = input_grads[i];
      if (grad == nullptr || !wanted.count(input)) continue;
      auto [slot, inserted] = grads.emplace(input, grad);
      if (!inserted) slot->second = graph.add_node("add", {slot->second, grad})->output(0);  // fan-out
    }
  }
  std::vector<Value*> result;
  for (Value* w : wrt) {
    auto found = grads.find(w);
    if (found == grads.end() && allow_missing) {
      result.push_back(nullptr);
      continue;
    }
    if (found == grads.end()) fail("autodiff: %{} does not affect %{}", w->name(), y->name());
    result.push_back(found->second);
  }
  return result;
}

void build_training_step(Graph& graph, const OptimizerAttrs& optimizer, const std::string& loss_name,
                         bool data_parallel) {
  if (graph.outputs().empty() && loss_name.empty())
    fail("autodiff: graph {} has no output to differentiate", graph.name());
  Value* loss = loss_name.empty() ? graph.outputs()[0] : graph.find(loss_name);
  if (loss == nullptr) fail("autodiff: graph {} has no value %{}", graph.name(), loss_name);
  if (loss->type() != TensorType{DType::f32, {}}) {
    fail("autodiff: the loss must be an f32[] scalar, got {}", type_str(loss->type()));
  }
  std::vector<Value*> params = graph.leaves_of(ValueKind::kParam);
  if (params.empty()) fail("autodiff: graph {} has no params to train", graph.name());
  Graph::BackwardScope backward(graph);
  Value* seed = [&] {
    Graph::OriginScope scope(graph, loss->producer() ? loss->producer()->origin() : "");
    return graph.add_node("fill", {}, {{"value", 1.0}, {"shape", Ints{}}})->output(0);
  }();
  std::vector<Value*> grads = build_gradients(graph, loss, seed, params);
  for (size_t i = 0; i < params.size(); ++i) {
    const std::string grad_name = params[i]->name() + ".grad";
    if (!params[i]->name().empty() && grads[i]->name().empty() && !graph.find(grad_name)) {
      graph.rename(grads[i], grad_name);
    }
  }
  if (data_parallel) grads = allreduce_gradients(graph, grads);
  add_optimizer_step(graph, params, grads, optimizer);
}

bool AutodiffPass::run(Graph& graph) {
  build_training_step(graph, optimizer_, loss_);
  return true;
}

PassFactory autodiff_pass_factory() {
  return [](const PassOptions& options) {
    check_options("autodiff", options,
                  {"optimizer", "momentum", "nesterov", "weight_decay", "clip_norm", "loss"});
    OptimizerAttrs optimizer;
    if (auto kind = options.find("optimizer"); kind != options.end()) optimizer.kind = kind->second;
    optimizer.momentum = float_option("autodiff", options, "momentum", 0);
    optimizer.nesterov = float_option("autodiff", options, "nesterov", 0) != 0;
    optimizer.weight_decay = float_option("autodiff", options, "weight_decay", 0);
    optimizer.clip_norm = float_option("autodiff", options, "clip_norm", 0);
    try {
      check_optimizer(optimizer);
    } catch (const Error& e) {
      fail("pass autodiff: {}", e.what());
    }
    auto loss = options.find("loss");
    return std::make_unique<AutodiffPass>(optimizer, loss == options.end() ? "" : loss->second);
  };
}

}  // namespace stratum
