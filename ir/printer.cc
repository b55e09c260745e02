#include "ir/printer.h"

#include <fmt/format.h>

#include "ir/op.h"

namespace stratum {

namespace {

const char* leaf_keyword(ValueKind kind) {
  switch (kind) {
    case ValueKind::kInput:
      return "input";
    case ValueKind::kParam:
      return "param";
    case ValueKind::kState:
      return "state";
    case ValueKind::kNode:
      break;
  }
  return "";
}

// The attributes that differ from the op's defaults, in declared order: "{stride=[2,2], groups=2}".
std::string attrs_text(const Node& node) {
  std::vector<std::string> parts;
  for (const AttrSpec& spec : node.op().attrs) {
    const Attr& value = node.attrs().at(spec.name);
    if (spec.default_value && *spec.default_value == value) continue;
    parts.push_back(fmt::format("{}={}", spec.name, attr_str(value)));
  }
  return parts.empty() ? "" : fmt::format(" {{{}}}", fmt::join(parts, ", "));
}

}  // namespace

std::unordered_map<const Value*, std::string> printed_names(const Graph& graph) {
  std::unordered_map<const Value*, std::string> names;
  int next = 0;
  auto name = [&](const Value* v) { names[v] = v->name().empty() ? std::to_string(next++) : v->name(); };
  for (const Value* leaf : graph.leaves()) name(leaf);
  for (const auto& node : graph.nodes()) {
    for (const Value* out : node->outputs()) name(out);
  }
  return names;
}

std::string print_graph(const Graph& graph) {
  auto names = printed_names(graph);
  auto ref = [&](const Value* v) { return "%" + names.at(v); };
  auto refs = [&](const std::vector<Value*>& values) {
    std::vector<std::string> parts;
    for (const Value* v : values) parts.push_back(ref(v));
    return fmt::format("{}", fmt::join(parts, ", "));
  };

  std::string out = fmt::format("graph {} {{\n", graph.name());
  for (const Value* leaf : graph.leaves()) {
    out += fmt::format("  {} {} : {}", leaf_keyword(leaf->kind()), ref(leaf), type_str(leaf->type()));
    if (leaf->kind() != ValueKind::kInput) out += " = " + init_str(leaf->init());
    out += "\n";
  }
  for (const auto& node : graph.nodes()) {
    std::vector<std::string> types;
    for (const Value* v : node->outputs()) types.push_back(type_str(v->type()));
    out +=
        fmt::format("  {} = {}({}){} : {}{}{}\n", refs(node->outputs()), node->op_name(),
                    refs(node->inputs()), attrs_text(*node), fmt::join(types, ", "),
                    node->origin().empty() ? "" : " @" + node->origin(), node->backward() ? " backward" : "");
  }
  for (const Update& update : graph.updates()) {
    out += fmt::format("  update {} = {}\n", ref(update.target), ref(update.value));
  }
  if (!graph.outputs().empty()) out += fmt::format("  output {}\n", refs(graph.outputs()));
  return out + "}\n";
}

}  // namespace stratum
