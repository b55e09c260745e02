// The op registry: every fact about an op, declared once. Arity, attributes (with defaults), shape
// inference (which also validates attributes), the gradient builder and the traits passes ask about.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ir/attr.h"
#include "ir/graph.h"
#include "ir/types.h"

namespace stratum {

struct AttrSpec {
  std::string name;
  AttrKind kind;
  std::optional<Attr> default_value;  // none: the attribute is required
};

// What shape inference sees: the input types and the attributes, defaults filled in.
struct OpCall {
  std::string_view op;
  const std::vector<TensorType>& inputs;
  const Attrs& attrs;

  int64_t attr_int(const std::string& name) const { return std::get<int64_t>(attrs.at(name)); }
  double attr_float(const std::string& name) const { return std::get<double>(attrs.at(name)); }
  const Ints& attr_ints(const std::string& name) const { return std::get<Ints>(attrs.at(name)); }
  bool attr_bool(const std::string& name) const { return std::get<bool>(attrs.at(name)); }
};

// Returns the output types; throws Error (fail()) with the reason when inputs or attributes are invalid.
using InferFn = std::vector<TensorType> (*)(const OpCall& call);

// What a gradient builder sees: the node, the gradient of each output (null where nothing flows back) and
// the graph to add backward nodes to. It returns the gradient of each input (null: none).
struct GradCall {
  Graph& graph;
  const Node& node;
  const std::vector<Value*>& output_grads;
};
using GradFn = std::vector<Value*> (*)(const GradCall& call);

struct OpTraits {
  bool elementwise = false;   // output i depends only on element i of same-shaped inputs
  bool inplace = false;       // output 0 may take input 0's buffer when input 0 dies at this node
  bool stateful_rng = false;  // draws random numbers (seeded, counter-based)
  int fused_inputs = 0;       // trailing inputs only a fused form takes (conv2d's residual); see is_fused()
};

// How an example's input is drawn (backends/random_feeds.h) where uniform values in [-1,1) would not do: off
// relu's kink, distinct for max_pool (a tie would let a finite difference move the maximum), positive
// variances, large values (softmax must not overflow). An i32 input holds small ints in [0,3): labels of
// three classes, or a dropout key.
enum class Fill { kUniform, kAwayFromZero, kDistinct, kPositive, kLarge };

struct ExampleInput {
  TensorType type;
  Fill fill = Fill::kUniform;
};

// One call of the op, small enough for finite differences. The tests are generated from every op's
// examples: shape inference (ir/ops_test), every plugin against the reference backend (backends/conformance)
// and, for an op with a gradient, the gradient against finite differences (backends/reference/
// gradient_test). An op without examples fails those tests by name.
struct OpExample {
  std::vector<ExampleInput> inputs;
  Attrs attrs = {};
  bool differentiable = true;  // false: the gradient builder refuses this call (inference batch_norm)
};

struct OpDef {
  std::string name;
  int min_inputs = 0;
  int max_inputs = 0;  // -1: any number (at least min_inputs)
  std::vector<AttrSpec> attrs;
  InferFn infer = nullptr;
  GradFn grad = nullptr;  // null: the op has no gradient (the backward ops themselves, slice, fill)
  OpTraits traits;
  std::string doc;  // one line
  std::vector<OpExample> examples;
};

// The op of that name, or null.
const OpDef* find_op(std::string_view name);
// Every registered op, in registration order.
const std::vector<const OpDef*>& all_ops();

// "conv2d(f32[2,3,7,7], f32[4,3,3,3]) padding=[1,1]": what a test names an example by.
std::string example_label(const OpDef& op, const OpExample& example);

// The op's schema as plugins see it: its input arity and each attribute's name, kind and default, e.g.
// "2..4 inputs; stride:int list=[1,1]; groups:int=1; lr:float" (lr has no default). A plugin declares the
// schema of each op it runs as it was built (backends/op_schemas.h); the loader refuses one whose schema
// differs.
std::string op_schema(const OpDef& op);

// Whether the node is an op's fused form: relu set, or inputs that only a fused form takes
// (OpTraits::fused_inputs). Fusion runs after autodiff, so a fused node has no gradient.
bool is_fused(const OpDef& op, const Attrs& attrs, size_t n_inputs);
bool is_fused(const Node& node);

// Checks `attrs` against the op's specs (unknown names, kinds), fills in defaults and returns the full set.
// Throws Error naming the attribute.
Attrs complete_attrs(const OpDef& op, Attrs attrs);

}  // namespace stratum
