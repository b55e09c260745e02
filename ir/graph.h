// The graph: SSA values and the nodes that produce them. The graph owns both; edges are plain pointers.
// Every mutation goes through Graph's methods, so that each value's list of users stays right.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "ir/attr.h"
#include "ir/types.h"

namespace stratum {

struct OpDef;
class Node;

// How a value comes to be: fed per step (input), learned (param), carried between steps (state), or
// computed by a node.
enum class ValueKind { kInput, kParam, kState, kNode };

// How a param or state value is initialised. Xavier-uniform takes its fans from the shape
// (dim 0 = fan out, dim 1 × receptive field = fan in); uniform draws from U(-bound, bound).
struct Init {
  enum Kind { kZeros, kOnes, kUniform, kXavierUniform };
  Kind kind = kZeros;
  double bound = 0;
};
std::string init_str(const Init& init);  // "zeros", "ones", "xavier_uniform", "uniform(0.2)"

// Names are letters, digits, '_' and '.', and not all digits (those are the printer's numbers).
bool is_value_name(std::string_view name);
// An origin names the net's layers a node belongs to: one or more parts of letters, digits, '_' and '.'
// joined by '+' ("conv1", "stem.conv+stem.bn" for a node fused from two layers).
bool is_origin(std::string_view origin);

class Value {
 public:
  const TensorType& type() const { return type_; }
  const std::string& name() const { return name_; }  // may be empty: the printer then numbers it
  ValueKind kind() const { return kind_; }
  Node* producer() const { return producer_; }  // null unless kind() == kNode
  int output_index() const { return output_index_; }
  const Init& init() const { return init_; }
  // One entry per use: a node that reads this value twice is listed twice.
  const std::vector<Node*>& users() const { return users_; }
  bool is_leaf() const { return kind_ != ValueKind::kNode; }

 private:
  friend class Graph;
  TensorType type_;
  std::string name_;
  ValueKind kind_ = ValueKind::kNode;
  Node* producer_ = nullptr;
  int output_index_ = 0;
  Init init_;
  std::vector<Node*> users_;
};

class Node {
 public:
  const OpDef& op() const { return *op_; }
  const std::string& op_name() const;
  const std::vector<Value*>& inputs() const { return inputs_; }
  const std::vector<Value*>& outputs() const { return outputs_; }
  Value* input(size_t i) const { return inputs_.at(i); }
  Value* output(size_t i = 0) const { return outputs_.at(i); }
  const Attrs& attrs() const { return attrs_; }

  // Typed attribute access; every attribute of the op is present (defaults are filled in).
  int64_t attr_int(const std::string& name) const { return std::get<int64_t>(attrs_.at(name)); }
  double attr_float(const std::string& name) const { return std::get<double>(attrs_.at(name)); }
  const Ints& attr_ints(const std::string& name) const { return std::get<Ints>(attrs_.at(name)); }
  const std::string& attr_string(const std::string& name) const {
    return std::get<std::string>(attrs_.at(name));
  }
  bool attr_bool(const std::string& name) const { return std::get<bool>(attrs_.at(name)); }

  // The layer of the net the node belongs to (Graph::OriginScope): for a forward node, the layer that made
  // it; for a backward node, the forward node's it differentiates; for a fused node, its anchor's, or two
  // layers' joined by '+' (passes/fusion.h). Empty when unknown (a graph written by hand or read from text
  // without origins).
  const std::string& origin() const { return origin_; }
  // Whether the node is part of a training step's backward (gradients, parameter updates), which autodiff
  // appends after the forward and marks (Graph::BackwardScope); a fused node has its anchor's.
  bool backward() const { return backward_; }

  // For messages: "conv2d -> %y" when the first output has a name, else "conv2d of %conv1.weight" when
  // the node reads a param, else the op's name.
  std::string label() const;

 private:
  friend class Graph;
  const OpDef* op_ = nullptr;
  std::vector<Value*> inputs_;
  std::vector<Value*> outputs_;
  Attrs attrs_;
  std::string origin_;
  bool backward_ = false;
};

// At the end of a step, `target` (a param or state) takes the value of `value`.
struct Update {
  Value* target;
  Value* value;
};

class Graph {
 public:
  explicit Graph(std::string name = "main") : name_(std::move(name)) {}
  Graph(const Graph&) = delete;
  Graph& operator=(const Graph&) = delete;

  const std::string& name() const { return name_; }

  // Leaves are fed, saved and loaded by name: an empty name is an Error.
  Value* add_input(std::string name, TensorType type);
  Value* add_param(std::string name, TensorType type, Init init);
  Value* add_state(std::string name, TensorType type, Init init);

  // While one lives, every node add_node makes gets `origin` (empty: none); the previous origin comes back
  // when it goes. Passes open one with the origin of the node they differentiate or replace.
  class OriginScope {
   public:
    OriginScope(Graph& graph, std::string origin);
    ~OriginScope() { graph_.origin_ = std::move(previous_); }
    OriginScope(const OriginScope&) = delete;
    OriginScope& operator=(const OriginScope&) = delete;

   private:
    Graph& graph_;
    std::string previous_;
  };
  // While one lives, every node add_node makes is marked backward (Node::backward).
  class BackwardScope {
   public:
    explicit BackwardScope(Graph& graph) : graph_(graph), previous_(std::exchange(graph.backward_, true)) {}
    ~BackwardScope() { graph_.backward_ = previous_; }
    BackwardScope(const BackwardScope&) = delete;
    BackwardScope& operator=(const BackwardScope&) = delete;

   private:
    Graph& graph_;
    bool previous_;
  };
  // Sets a node's origin afterwards (the parser, nets naming the layers no scope named, fusion merging two
  // layers); Error unless is_origin() or empty.
  void set_origin(Node* node, std::string origin);
  // Marks a node backward or not afterwards (the parser, fusion giving a fused node its anchor's).
  void set_backward(Node* node, bool backward) { node->backward_ = backward; }

  // Adds a node before `before` (at the end when null), with the current OriginScope's origin, backward
  // inside a BackwardScope. Checks arity
  // and attributes (filling in defaults) and infers the output types; throws Error naming the op and the
  // reason. `output_names` may be empty or name every output ("" leaves one unnamed).
  Node* add_node(std::string_view op, std::vector<Value*> inputs, Attrs attrs = {},
                 std::vector<std::string> output_names = {}, const Node* before = nullptr);

  // Every use of `from` (node inputs, outputs, updates) now reads `to`; both must have the same type.
  void replace_all_uses(Value* from, Value* to);
  // `user` reads `to` wherever it read `from`.
  void replace_input(Node* user, Value* from, Value* to);
  // Removes a node none of whose outputs is used.
  void erase_node(Node* node);

  void add_output(Value* value);
  void add_update(Value* target, Value* value);
  // Drops the graph outputs (the values stay).
  void clear_outputs() { outputs_.clear(); }

  // Leaves (inputs, params, state) in declaration order.
  const std::vector<Value*>& leaves() const { return leaves_; }
  std::vector<Value*> leaves_of(ValueKind kind) const;
  const std::vector<std::unique_ptr<Node>>& nodes() const { return nodes_; }
  const std::vector<Value*>& outputs() const { return outputs_; }
  const std::vector<Update>& updates() const { return updates_; }

  Value* find(std::string_view name) const;  // null when there is no value of that name
  int index_of(const Node* node) const;      // position in the node order

  // Whether the value outlives the step: a graph output or an update's value.
  bool is_kept(const Value* value) const;
  // The nodes computed from params and state alone, none of them an update's target (BN folded into a
  // conv's weights, in inference): every run computes the same with them until the state is loaded again, so
  // an executor runs them once.
  std::unordered_set<const Node*> constant_nodes() const;

  // Renames a value; the name must be empty or unused.
  void rename(Value* value, std::string name);

 private:
  Value* new_value(std::string name, TensorType type, ValueKind kind);
  void remove_user(Value* value, Node* user);

  std::string name_;
  std::vector<std::unique_ptr<Value>> values_;
  std::vector<std::unique_ptr<Node>> nodes_;
  std::vector<Value*> leaves_;
  std::vector<Value*> outputs_;
  std::vector<Update> updates_;
  std::unordered_map<std::string, Value*> by_name_;
  std::string origin_;     // of the innermost OriginScope
  bool backward_ = false;  // inside a BackwardScope
};

}  // namespace stratum
