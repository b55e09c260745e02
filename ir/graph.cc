#include "ir/graph.h"

#include <algorithm>
#include <cctype>
#include <unordered_set>
#include <utility>

#include "ir/error.h"
#include "ir/op.h"

namespace stratum {

std::string init_str(const Init& init) {
  switch (init.kind) {
    case Init::kZeros:
      return "zeros";
    case Init::kOnes:
      return "ones";
    case Init::kXavierUniform:
      return "xavier_uniform";
    case Init::kUniform:
      return fmt::format("uniform({})", attr_str(Attr(init.bound)));
  }
  return "";
}

bool is_value_name(std::string_view name) {
  bool has_non_digit = false;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.') return false;
    has_non_digit |= !std::isdigit(static_cast<unsigned char>(c));
  }
  return has_non_digit;
}

bool is_origin(std::string_view origin) {
  size_t part = 0;  // length of the part so far
  for (char c : origin) {
    if (c == '+' && part == 0) return false;
    if (c != '+' && !std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.') return false;
    part = c == '+' ? 0 : part + 1;
  }
  return part > 0;
}

namespace {

std::string checked_origin(std::string origin) {
  if (!origin.empty() && !is_origin(origin))
    fail("'{}' is not an origin: use layer names of letters, digits, '_' and '.', joined by '+'", origin);
  return origin;
}

}  // namespace

Graph::OriginScope::OriginScope(Graph& graph, std::string origin)
    : graph_(graph), previous_(std::exchange(graph.origin_, checked_origin(std::move(origin)))) {}

void Graph::set_origin(Node* node, std::string origin) { node->origin_ = checked_origin(std::move(origin)); }

const std::string& Node::op_name() const { return op_->name; }

std::string Node::label() const {
  if (!outputs_.empty() && !outputs_[0]->name().empty()) {
    return fmt::format("{} -> %{}", op_->name, outputs_[0]->name());
  }
  for (const Value* input : inputs_) {  // unnamed: say which layer by the param it reads
    if (input->kind() == ValueKind::kParam) return fmt::format("{} of %{}", op_->name, input->name());
  }
  return op_->name;
}

Value* Graph::new_value(std::string name, TensorType type, ValueKind kind) {
  auto value = std::make_unique<Value>();
  value->type_ = std::move(type);
  value->kind_ = kind;
  Value* raw = value.get();
  values_.push_back(std::move(value));
  rename(raw, std::move(name));
  return raw;
}

void Graph::rename(Value* value, std::string name) {
  if (!name.empty()) {
    if (!is_value_name(name))
      fail("'{}' is not a value name: use letters, digits, '_' and '.', not all digits", name);
    auto [it, inserted] = by_name_.emplace(name, value);
    if (!inserted && it->second != value) fail("value name %{} is already defined", name);
  }
  if (!value->name_.empty() && value->name_ != name) by_name_.erase(value->name_);
  value->name_ = std::move(name);
}

namespace {

// Inputs, params and state are fed, saved and loaded by name, so each needs one.
std::string leaf_name(std::string name, const char* kind) {
  if (name.empty()) fail("an unnamed {}: inputs, params and state are fed, saved and loaded by name", kind);
  return name;
}

}  // namespace

Value* Graph::add_input(std::string name, TensorType type) {
  check_type(type);
  Value* value = new_value(leaf_name(std::move(name), "input"), std::move(type), ValueKind::kInput);
  leaves_.push_back(value);
  return value;
}

Value* Graph::add_param(std::string name, TensorType type, Init init) {
  check_type(type);
  Value* value = new_value(leaf_name(std::move(name), "param"), std::move(type), ValueKind::kParam);
  value->init_ = init;
  leaves_.push_back(value);
  return value;
}

Value* Graph::add_state(std::string name, TensorType type, Init init) {
  check_type(type);
  Value* value = new_value(leaf_name(std::move(name), "state"), std::move(type), ValueKind::kState);
  value->init_ = init;
  leaves_.push_back(value);
  return value;
}

Node* Graph::add_node(std::string_view op_name, std::vector<Value*> inputs, Attrs attrs,
                      std::vector<std::string> output_names, const Node* before) {
  const OpDef* op = find_op(op_name);
  if (op == nullptr) fail("unknown op '{}'", op_name);
  const int count = static_cast<int>(inputs.size());
  if (count < op->min_inputs || (op->max_inputs >= 0 && count > op->max_inputs)) {
    std::string expected = op->max_inputs < 0 ? fmt::format("at least {}", op->min_inputs)
                           : op->min_inputs == op->max_inputs
                               ? std::to_string(op->min_inputs)
                               : fmt::format("{} to {}", op->min_inputs, op->max_inputs);
    fail("{}: takes {} inputs, got {}", op->name, expected, count);
  }
  std::vector<TensorType> input_types;
  for (Value* input : inputs) {
    if (input == nullptr) fail("{}: an input is missing", op->name);
    input_types.push_back(input->type());
  }
  attrs = complete_attrs(*op, std::move(attrs));
  std::vector<TensorType> output_types;
  try {
    output_types = op->infer(OpCall{op->name, input_types, attrs});
    for (const TensorType& type : output_types) check_type(type);  // shapes taken from attrs are unchecked
  } catch (const Error& e) {
    fail("{}: {}", op->name, e.what());
  }
  if (!output_names.empty() && output_names.size() != output_types.size()) {
    fail("{}: has {} outputs, {} names given", op->name, output_types.size(), output_names.size());
  }

  for (size_t i = 0; i < output_names.size(); ++i) {  // before any value is made, so failure leaves no trace
    const std::string& name = output_names[i];
    if (name.empty()) continue;
    if (!is_value_name(name)) fail("{}: '{}' is not a value name", op->name, name);
    if (by_name_.count(name) || std::count(output_names.begin(), output_names.begin() + i, name)) {
      fail("{}: value name %{} is already defined", op->name, name);
    }
  }
  auto node = std::make_unique<Node>();
  node->op_ = op;
  node->attrs_ = std::move(attrs);
  node->origin_ = origin_;
  node->backward_ = backward_;
  node->inputs_ = std::move(inputs);
  for (size_t i = 0; i < output_types.size(); ++i) {
    Value* out = new_value(output_names.empty() ? "" : output_names[i], output_types[i], ValueKind::kNode);
    out->producer_ = node.get();
    out->output_index_ = static_cast<int>(i);
    node->outputs_.push_back(out);
  }
  for (Value* input : node->inputs_) input->users_.push_back(node.get());
  Node* raw = node.get();
  auto position = before == nullptr ? nodes_.end() : nodes_.begin() + index_of(before);
  nodes_.insert(position, std::move(node));
  return raw;
}

void Graph::remove_user(Value* value, Node* user) {
  auto& users = value->users_;
  users.erase(std::find(users.begin(), users.end(), user));
}

void Graph::replace_all_uses(Value* from, Value* to) {
  if (from == to) return;
  if (from->type() != to->type()) {
    fail("cannot replace a {} with a {}", type_str(from->type()), type_str(to->type()));
  }
  for (Node* user : std::vector<Node*>(from->users_)) {
    for (Value*& input : user->inputs_) {
      if (input == from) {
        input = to;
        to->users_.push_back(user);
      }
    }
  }
  from->users_.clear();
  std::replace(outputs_.begin(), outputs_.end(), from, to);
  for (Update& update : updates_) {
    if (update.value == from) update.value = to;
  }
}

void Graph::replace_input(Node* user, Value* from, Value* to) {
  if (from->type() != to->type()) {
    fail("cannot replace a {} with a {}", type_str(from->type()), type_str(to->type()));
  }
  for (Value*& input : user->inputs_) {
    if (input != from) continue;
    input = to;
    to->users_.push_back(user);
    remove_user(from, user);
  }
}

bool Graph::is_kept(const Value* value) const {
  return std::count(outputs_.begin(), outputs_.end(), value) > 0 ||
         std::any_of(updates_.begin(), updates_.end(), [&](const Update& u) { return u.value == value; });
}

std::unordered_set<const Node*> Graph::constant_nodes() const {
  std::unordered_set<const Value*> constant;
  for (const Value* leaf : leaves_) {
    if (leaf->kind() != ValueKind::kInput) constant.insert(leaf);
  }
  for (const Update& update : updates_) constant.erase(update.target);
  std::unordered_set<const Node*> nodes;
  for (const auto& node : nodes_) {
    const auto& in = node->inputs_;
    if (!std::all_of(in.begin(), in.end(), [&](const Value* v) { return constant.count(v) > 0; })) continue;
    nodes.insert(node.get());
    constant.insert(node->outputs_.begin(), node->outputs_.end());
  }
  return nodes;
}

void Graph::erase_node(Node* node) {
  for (Value* out : node->outputs_) {
    if (!out->users_.empty() || is_kept(out))
      fail("cannot erase {}: its output is still used", node->label());
  }
  for (Value* input : node->inputs_) remove_user(input, node);
  for (Value* out : node->outputs_) {
    if (!out->name_.empty()) by_name_.erase(out->name_);
    out->producer_ = nullptr;
  }
  nodes_.erase(nodes_.begin() + index_of(node));
}

void Graph::add_output(Value* value) { outputs_.push_back(value); }

void Graph::add_update(Value* target, Value* value) {
  if (target->kind() != ValueKind::kParam && target->kind() != ValueKind::kState) {
    fail("update target %{} is not a param or state", target->name());
  }
  if (target->type() != value->type()) {
    fail("update of %{}: {} cannot take a {}", target->name(), type_str(target->type()),
         type_str(value->type()));
  }
  updates_.push_back({target, value});
}

std::vector<Value*> Graph::leaves_of(ValueKind kind) const {
  std::vector<Value*> result;
  for (Value* leaf : leaves_) {
    if (leaf->kind() == kind) result.push_back(leaf);
  }
  return result;
}

Value* Graph::find(std::string_view name) const {
  auto it = by_name_.find(std::string(name));
  return it == by_name_.end() ? nullptr : it->second;
}

int Graph::index_of(const Node* node) const {
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (nodes_[i].get() == node) return static_cast<int>(i);
  }
  fail("node {} is not in graph {}", node->label(), name_);
}

}  // namespace stratum
