#include "backends/subgraph.h"

#include <algorithm>
#include <cstring>
#include <unordered_set>

#include "ir/error.h"
#include "ir/op.h"

namespace stratum {

stratum_tensor_desc to_desc(const TensorType& type) {
  if (type.rank() > STRATUM_MAX_RANK)
    fail("{} has more than {} dimensions", type_str(type), STRATUM_MAX_RANK);
  stratum_tensor_desc desc{};
  desc.dtype = static_cast<int32_t>(type.dtype);
  desc.rank = static_cast<int32_t>(type.rank());
  for (int64_t i = 0; i < type.rank(); ++i) desc.dims[i] = type.shape[i];
  return desc;
}

TensorType from_desc(const stratum_tensor_desc& desc) {
  if (desc.rank < 0 || desc.rank > STRATUM_MAX_RANK) fail("a tensor has rank {}", desc.rank);
  if (desc.dtype < 0 || desc.dtype > STRATUM_F16) fail("a tensor has element type {}", desc.dtype);
  return {static_cast<DType>(desc.dtype), Shape(desc.dims, desc.dims + desc.rank)};
}

SubgraphDesc::SubgraphDesc(const std::vector<const Node*>& nodes,
                           const std::function<bool(const Value*)>& needed_outside) {
  std::unordered_set<const Value*> produced;
  for (const Node* node : nodes) {
    for (const Value* input : node->inputs()) {
      if (!produced.count(input) && !ids_.count(input)) args_.push_back(input);
      id(input);
    }
    for (const Value* output : node->outputs()) {
      produced.insert(output);
      id(output);
    }
  }
  const size_t n_inputs = args_.size();
  for (const Node* node : nodes) {
    for (const Value* output : node->outputs()) {
      if (needed_outside(output)) args_.push_back(output);
    }
  }
  for (const Node* node : nodes) {
    stratum_node& c = nodes_.emplace_back();
    c.op = strings_.emplace_back(node->op_name()).c_str();
    c.label = strings_.emplace_back(node->label()).c_str();
    auto& inputs = id_lists_.emplace_back();
    for (const Value* v : node->inputs()) inputs.push_back(ids_.at(v));
    auto& outputs = id_lists_.emplace_back();
    for (const Value* v : node->outputs()) outputs.push_back(ids_.at(v));
    auto& attrs = attr_lists_.emplace_back();
    for (const auto& [name, value] : node->attrs()) attrs.push_back(attr(name, value));
    c.n_inputs = static_cast<int32_t>(inputs.size());
    c.inputs = inputs.data();
    c.n_outputs = static_cast<int32_t>(outputs.size());
    c.outputs = outputs.data();
    c.n_attrs = static_cast<int32_t>(attrs.size());
    c.attrs = attrs.data();
  }
  for (const Value* arg : args_) arg_ids_.push_back(ids_.at(arg));
  subgraph_ = {static_cast<int32_t>(descs_.size()),
               descs_.data(),
               static_cast<int32_t>(nodes_.size()),
               nodes_.data(),
               static_cast<int32_t>(n_inputs),
               static_cast<int32_t>(arg_ids_.size()),
               arg_ids_.data()};
}

int32_t SubgraphDesc::id(const Value* value) {
  auto [it, inserted] = ids_.emplace(value, static_cast<int32_t>(descs_.size()));
  if (inserted) descs_.push_back(to_desc(value->type()));
  return it->second;
}

stratum_attr SubgraphDesc::attr(const std::string& name, const Attr& value) {
  stratum_attr a{};
  a.name = strings_.emplace_back(name).c_str();
  a.kind = static_cast<int32_t>(attr_kind(value));
  switch (attr_kind(value)) {
    case AttrKind::kInt:
      a.i = std::get<int64_t>(value);
      break;
    case AttrKind::kFloat:
      a.f = std::get<double>(value);
      break;
    case AttrKind::kInts: {
      const Ints& ints = ints_.emplace_back(std::get<Ints>(value));
      a.ints = ints.data();
      a.n_ints = static_cast<int32_t>(ints.size());
      break;
    }
    case AttrKind::kString:
      a.s = strings_.emplace_back(std::get<std::string>(value)).c_str();
      break;
    case AttrKind::kBool:
      a.i = std::get<bool>(value);
      break;
  }
  return a;
}

bool plugin_supports(const stratum_plugin& plugin, const SubgraphDesc& desc, size_t i) {
  const stratum_node& node = desc.node(i);
  const stratum_op_schema* end = plugin.op_schemas + plugin.n_op_schemas;
  const bool listed = std::any_of(
      plugin.op_schemas, end, [&](const stratum_op_schema& s) { return std::strcmp(s.op, node.op) == 0; });
  return listed && plugin.supports(&node, desc.values(), desc.n_values());
}

namespace {

Attr attr_value(const stratum_attr& a) {
  switch (static_cast<AttrKind>(a.kind)) {
    case AttrKind::kInt:
      return a.i;
    case AttrKind::kFloat:
      return a.f;
    case AttrKind::kInts:
      if (a.n_ints < 0) fail("attribute '{}' has {} ints", a.name, a.n_ints);
      return Ints(a.ints, a.ints + a.n_ints);
    case AttrKind::kString:
      return std::string(a.s);
    case AttrKind::kBool:
      return a.i != 0;
  }
  fail("attribute '{}' has kind {}", a.name, a.kind);
}

}  // namespace

RebuiltGraph rebuild_graph(const stratum_subgraph& subgraph) {
  if (subgraph.n_values < 0 || subgraph.n_nodes < 0 || subgraph.n_inputs < 0 ||
      subgraph.n_args < subgraph.n_inputs) {
    fail("subgraph counts are invalid: {} values, {} nodes, {} inputs, {} args", subgraph.n_values,
         subgraph.n_nodes, subgraph.n_inputs, subgraph.n_args);
  }
  RebuiltGraph result{std::make_unique<Graph>("subgraph"),
                      std::vector<Value*>(static_cast<size_t>(subgraph.n_values), nullptr)};
  // Every id is checked before it indexes: the description comes from across the ABI.
  auto value_id = [&](int32_t id, const char* where, const std::string& what) {
    if (id < 0 || id >= subgraph.n_values)
      fail("{}: {} is value {}, not in [0,{})", where, what, id, subgraph.n_values);
    return id;
  };
  for (int32_t i = 0; i < subgraph.n_inputs; ++i) {
    const int32_t id = value_id(subgraph.args[i], "subgraph", fmt::format("arg {}", i));
    result.values[id] = result.graph->add_input("arg" + std::to_string(i), from_desc(subgraph.values[id]));
  }
  for (int32_t n = 0; n < subgraph.n_nodes; ++n) {
    const stratum_node& node = subgraph.nodes[n];
    if (node.n_inputs < 0 || node.n_outputs < 0 || node.n_attrs < 0)
      fail("{}: negative counts of inputs, outputs or attributes", node.label);
    std::vector<Value*> inputs;
    for (int32_t i = 0; i < node.n_inputs; ++i) {
      Value* input = result.values[value_id(node.inputs[i], node.label, fmt::format("input {}", i))];
      if (input == nullptr) fail("{}: input {} is neither an arg nor computed before", node.label, i);
      inputs.push_back(input);
    }
    Attrs attrs;
    for (int32_t i = 0; i < node.n_attrs; ++i) {
      try {
        attrs[node.attrs[i].name] = attr_value(node.attrs[i]);
      } catch (const Error& e) {
        fail("{}: {}", node.label, e.what());
      }
    }
    Node* rebuilt = result.graph->add_node(node.op, std::move(inputs), std::move(attrs));
    if (static_cast<int32_t>(rebuilt->outputs().size()) != node.n_outputs) {
      fail("{}: has {} outputs, the op gives {}", node.label, node.n_outputs, rebuilt->outputs().size());
    }
    for (int32_t i = 0; i < node.n_outputs; ++i) {
      const int32_t id = value_id(node.outputs[i], node.label, fmt::format("output {}", i));
      if (result.values[id] != nullptr)
        fail("{}: output {} (value {}) is already defined", node.label, i, id);
      Value* out = rebuilt->output(i);
      if (out->type() != from_desc(subgraph.values[id])) {
        fail("{}: output {} is {}, the op gives {}", node.label, i, type_str(from_desc(subgraph.values[id])),
             type_str(out->type()));
      }
      result.values[id] = out;
    }
  }
  for (int32_t i = subgraph.n_inputs; i < subgraph.n_args; ++i) {
    Value* out = result.values[value_id(subgraph.args[i], "subgraph", fmt::format("arg {}", i))];
    if (out == nullptr) fail("subgraph: output arg {} is never computed", i);
    result.graph->add_output(out);
  }
  return result;
}

}  // namespace stratum
