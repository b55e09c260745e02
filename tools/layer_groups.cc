#include "tools/layer_groups.h"

#include <fmt/ranges.h>

#include <algorithm>
#include <map>

#include "ir/op.h"

namespace stratum {

namespace {

bool is_gradient_op(const Node& node) {
  return node.op_name() == "sgd_update" || node.op_name().find("_grad") != std::string::npos;
}

// Gradient ops and whatever computes from them; then, backwards, nodes that only they read (the seed).
std::unordered_set<const Node*> backward_nodes(const Graph& graph) {
  std::unordered_set<const Node*> backward;
  for (const auto& node : graph.nodes()) {
    bool from_gradient = is_gradient_op(*node);
    for (const Value* input : node->inputs()) from_gradient |= backward.count(input->producer()) > 0;
    if (from_gradient) backward.insert(node.get());
  }
  for (auto it = graph.nodes().rbegin(); it != graph.nodes().rend(); ++it) {
    const Node* node = it->get();
    bool read = false, only_by_backward = true;
    for (const Value* out : node->outputs()) {
      only_by_backward &= !graph.is_kept(out);
      for (const Node* user : out->users()) {
        read = true;
        only_by_backward &= backward.count(user) > 0;
      }
    }
    if (read && only_by_backward) backward.insert(node);
  }
  return backward;
}

std::string param_layer(const Value& param) { return param.name().substr(0, param.name().rfind('.')); }

// An elementwise node's one computed input, or null.
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

class Grouper {
 public:
  explicit Grouper(const Graph& graph) : graph_(graph) {
    groups_.backward = backward_nodes(graph);
    for (const auto& node : graph.nodes()) {
      index_[node.get()] = index_.size();
      if (!groups_.backward.count(node.get())) forward_.push_back(node.get());
    }
  }

  LayerGroups run() {
    name_forward();
    size_t previous = groups_.layers.empty() ? 0 : groups_.layer_of.at(forward_.back());
    size_t cursor = SIZE_MAX;  // the forward node the previous backward node differentiates
    for (const auto& node : graph_.nodes()) {
      if (!groups_.backward.count(node.get())) continue;
      if (const Node* forward = differentiated(*node, cursor)) {
        previous = groups_.layer_of.at(forward);
        cursor = index_.at(forward);
      }
      groups_.layer_of[node.get()] = previous;
    }
    return std::move(groups_);
  }

 private:
  void name_forward() {
    std::map<std::string, int> count, seen;
    for (const Node* node : forward_) {
      note_weights(*node);
      if (activation_source(*node) == nullptr && layers_read(*node).empty()) ++count[node->op_name()];
    }
    for (const Node* node : forward_) {
      std::string name = fmt::format("{}", fmt::join(layers_read(*node), "+"));
      if (const Node* source = activation_source(*node); name.empty() && source) {
        groups_.layer_of[node] = groups_.layer_of.at(source);
        continue;
      }
      if (name.empty()) {
        const std::string& op = node->op_name();
        name = count[op] > 1 ? op + std::to_string(++seen[op]) : op;
      }
      groups_.layer_of[node] = add_layer(name);
    }
  }

  // Records the params a node reads, and the layers of the values it computes from params and state
  // alone (batch norm folded into a conv's weights: the conv then counts with the conv and the BN).
  void note_weights(const Node& node) {
    bool weights_only = true;
    for (const Value* input : node.inputs()) {
      if (input->kind() == ValueKind::kParam) param_reader_.emplace(input, &node);
      if (input->kind() == ValueKind::kParam || input->kind() == ValueKind::kState) {
        weight_layers_[input] = {param_layer(*input)};
      }
      weights_only &= weight_layers_.count(input) > 0;
    }
    if (!weights_only) return;
    for (const Value* out : node.outputs()) weight_layers_[out] = layers_read(node);
  }

  // The layers of the params and state a node reads, directly or through values computed from them alone.
  std::vector<std::string> layers_read(const Node& node) const {
    std::vector<std::string> layers;
    for (const Value* input : node.inputs()) {
      if (!weight_layers_.count(input)) continue;
      for (const std::string& layer : weight_layers_.at(input)) {
        if (std::find(layers.begin(), layers.end(), layer) == layers.end()) layers.push_back(layer);
      }
    }
    return layers;
  }

  size_t add_layer(const std::string& name) {
    auto [it, added] = layer_index_.emplace(name, groups_.layers.size());
    if (added) groups_.layers.push_back(name);
    return it->second;
  }

  // The forward node a backward node differentiates, or null when it says nothing about it.
  const Node* differentiated(const Node& node, size_t cursor) const {
    for (const Value* input : node.inputs()) {
      if (param_reader_.count(input)) return param_reader_.at(input);
    }
    for (const Value* out : node.outputs()) {
      for (const Node* user : out->users()) {
        if (user->op_name() == "sgd_update" && param_reader_.count(user->input(0)))
          return param_reader_.at(user->input(0));
      }
    }
    const size_t grad = node.op_name().find("_grad");
    if (grad == std::string::npos) return last_before(reversed_types(node), cursor);
    const std::string op = node.op_name().substr(0, grad);
    std::vector<const Node*> related, all, producers;
    for (const Node* f : forward_) {
      if (f->op_name() == op) all.push_back(f);
      if (f->op_name() == op && touches(*f, node)) related.push_back(f);
      if (produces_input(*f, node)) producers.push_back(f);
    }
    return last_before(!related.empty() ? related : !all.empty() ? all : producers, cursor);
  }

  static bool produces_input(const Node& forward, const Node& backward) {
    return std::any_of(backward.inputs().begin(), backward.inputs().end(),
                       [&](const Value* v) { return v->producer() == &forward; });
  }

  // For a one-input, one-output node: the forward nodes (not elementwise) it could be the gradient of by its
  // types, reading one's output type and producing one of its input types (reshape for flatten, slice for
  // concat).
  std::vector<const Node*> reversed_types(const Node& node) const {
    std::vector<const Node*> candidates;
    if (node.inputs().size() != 1 || node.outputs().size() != 1) return candidates;
    for (const Node* f : forward_) {
      if (f->op().traits.elementwise || f->outputs().size() != 1) continue;
      if (f->output()->type() != node.input(0)->type()) continue;
      if (std::any_of(f->inputs().begin(), f->inputs().end(),
                      [&](const Value* v) { return v->type() == node.output()->type(); }))
        candidates.push_back(f);
    }
    return candidates;
  }

  // Whether `backward` reads an input or an output of `forward`.
  static bool touches(const Node& forward, const Node& backward) {
    const auto& reads = forward.inputs();
    return produces_input(forward, backward) ||
           std::any_of(backward.inputs().begin(), backward.inputs().end(), [&](const Value* v) {
             return std::find(reads.begin(), reads.end(), v) != reads.end();
           });
  }

  // Of `nodes` (in graph order), the last at or before index `cursor`, else the last; null when none.
  const Node* last_before(const std::vector<const Node*>& nodes, size_t cursor) const {
    for (auto it = nodes.rbegin(); it != nodes.rend(); ++it) {
      if (index_.at(*it) <= cursor) return *it;
    }
    return nodes.empty() ? nullptr : nodes.back();
  }

  const Graph& graph_;
  LayerGroups groups_;
  std::vector<const Node*> forward_;
  std::unordered_map<const Node*, size_t> index_;
  std::unordered_map<const Value*, const Node*> param_reader_;  // each param's first forward reader
  std::unordered_map<const Value*, std::vector<std::string>> weight_layers_;
  std::unordered_map<std::string, size_t> layer_index_;
};

}  // namespace

LayerGroups group_layers(const Graph& graph) { return Grouper(graph).run(); }

}  // namespace stratum
