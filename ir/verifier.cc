#include "ir/verifier.h"

#include <algorithm>
#include <unordered_set>

#include "ir/error.h"
#include "ir/op.h"
#include "ir/printer.h"

namespace stratum {

namespace {

using Names = std::unordered_map<const Value*, std::string>;

void verify_node(const Node& node, const std::unordered_set<const Value*>& defined, const Names& names) {
  const OpDef& op = node.op();
  for (const Value* input : node.inputs()) {
    if (!defined.count(input)) fail("input %{} is used before it is defined", names.at(input));
    if (std::count(input->users().begin(), input->users().end(), &node) !=
        std::count(node.inputs().begin(), node.inputs().end(), input)) {
      fail("the use list of %{} is out of date", names.at(input));
    }
  }
  std::vector<TensorType> input_types;
  for (const Value* input : node.inputs()) input_types.push_back(input->type());
  const int count = static_cast<int>(input_types.size());
  if (count < op.min_inputs || (op.max_inputs >= 0 && count > op.max_inputs))
    fail("wrong number of inputs: {}", count);
  Attrs attrs = complete_attrs(op, node.attrs());
  if (attrs != node.attrs()) fail("attributes are incomplete");
  std::vector<TensorType> expected = op.infer(OpCall{op.name, input_types, attrs});
  if (expected.size() != node.outputs().size())
    fail("has {} outputs, the op gives {}", node.outputs().size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    const Value* out = node.outputs()[i];
    if (out->type() != expected[i]) {
      fail("output {} is {} but shape inference gives {}", i, type_str(out->type()), type_str(expected[i]));
    }
    if (out->producer() != &node || out->output_index() != static_cast<int>(i))
      fail("output {} has the wrong producer", i);
  }
}

// Every entry of a use list is a node of this graph that reads the value.
void check_use_lists(const Graph& graph, const Names& names) {
  std::unordered_set<const Node*> nodes;
  for (const auto& node : graph.nodes()) nodes.insert(node.get());
  for (const auto& [value, name] : names) {
    for (const Node* user : value->users()) {
      const auto& inputs = user->inputs();
      if (!nodes.count(user) || std::find(inputs.begin(), inputs.end(), value) == inputs.end()) {
        fail("graph {}: the use list of %{} names a node that does not read it", graph.name(), name);
      }
    }
  }
}

}  // namespace

void verify_graph(const Graph& graph) {
  auto names = printed_names(graph);
  std::unordered_set<const Value*> defined(graph.leaves().begin(), graph.leaves().end());
  check_use_lists(graph, names);
  int index = 0;
  for (const auto& node : graph.nodes()) {
    try {
      verify_node(*node, defined, names);
    } catch (const Error& e) {
      fail("graph {}: node {} ({} -> %{}): {}", graph.name(), index, node->op_name(),
           names.at(node->output(0)), e.what());
    }
    for (const Value* out : node->outputs()) {
      if (!defined.insert(out).second) fail("graph {}: %{} is defined twice", graph.name(), names.at(out));
    }
    ++index;
  }
  for (const Value* out : graph.outputs()) {
    if (!defined.count(out)) fail("graph {}: an output is not defined in the graph", graph.name());
  }
  std::unordered_set<const Value*> updated;
  for (const Update& update : graph.updates()) {
    if (!defined.count(update.value) || !defined.count(update.target)) {
      fail("graph {}: an update names a value not defined in the graph", graph.name());
    }
    if (update.target->kind() != ValueKind::kParam && update.target->kind() != ValueKind::kState) {
      fail("graph {}: update target %{} is not a param or state", graph.name(), names.at(update.target));
    }
    if (!updated.insert(update.target).second)
      fail("graph {}: %{} is updated twice", graph.name(), names.at(update.target));
    if (update.target->type() != update.value->type()) {
      fail("graph {}: update of %{} has type {}, expected {}", graph.name(), names.at(update.target),
           type_str(update.value->type()), type_str(update.target->type()));
    }
  }
}

}  // namespace stratum
