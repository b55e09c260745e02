#include "ir/op.h"

#include <algorithm>
#include <memory>

#include "ir/error.h"
#include "ir/ops/common.h"

namespace stratum {

namespace {

struct Registry {
  ops::OpList defs;
  std::vector<const OpDef*> pointers;
};

const Registry& registry() {
  static const Registry* instance = [] {
    auto r = std::make_unique<Registry>();
    ops::add_conv_ops(r->defs);
    ops::add_norm_ops(r->defs);
    ops::add_pool_ops(r->defs);
    ops::add_elementwise_ops(r->defs);
    ops::add_softmax_ops(r->defs);
    ops::add_shape_ops(r->defs);
    ops::add_linear_ops(r->defs);
    ops::add_loss_ops(r->defs);
    ops::add_optimizer_ops(r->defs);
    ops::add_fused_ops(r->defs);
    ops::add_collective_ops(r->defs);
    for (const OpDef& def : r->defs) r->pointers.push_back(&def);
    return r.release();
  }();
  return *instance;
}

}  // namespace

const OpDef* find_op(std::string_view name) {
  for (const OpDef* def : registry().pointers) {
    if (def->name == name) return def;
  }
  return nullptr;
}

const std::vector<const OpDef*>& all_ops() { return registry().pointers; }

std::string example_label(const OpDef& op, const OpExample& example) {
  std::string label = op.name + "(";
  for (const ExampleInput& input : example.inputs)
    label += (&input == &example.inputs[0] ? "" : ", ") + type_str(input.type);
  label += ")";
  for (const auto& [name, value] : example.attrs) label += fmt::format(" {}={}", name, attr_str(value));
  return label;
}

std::string op_schema(const OpDef& op) {
  std::string text = std::to_string(op.min_inputs);
  if (op.max_inputs != op.min_inputs)
    text += ".." + (op.max_inputs < 0 ? std::string("*") : std::to_string(op.max_inputs));
  text += op.min_inputs == 1 && op.max_inputs == 1 ? " input" : " inputs";
  for (const AttrSpec& spec : op.attrs) {
    text += fmt::format("; {}:{}", spec.name, attr_kind_name(spec.kind));
    if (spec.default_value) text += "=" + attr_str(*spec.default_value);
  }
  return text;
}

bool is_fused(const OpDef& op, const Attrs& attrs, size_t n_inputs) {
  auto relu = attrs.find("relu");
  const int fused_from = op.max_inputs - op.traits.fused_inputs;  // the first input only a fused form takes
  return (relu != attrs.end() && std::get<bool>(relu->second)) ||
         (op.traits.fused_inputs > 0 && static_cast<int>(n_inputs) > fused_from);
}

bool is_fused(const Node& node) { return is_fused(node.op(), node.attrs(), node.inputs().size()); }

Attrs complete_attrs(const OpDef& op, Attrs attrs) {
  for (const auto& [name, value] : attrs) {
    auto spec = std::find_if(op.attrs.begin(), op.attrs.end(),
                             [&name = name](const AttrSpec& s) { return s.name == name; });
    if (spec == op.attrs.end()) fail("{}: unknown attribute '{}'", op.name, name);
    AttrKind kind = attr_kind(value);
    if (kind == AttrKind::kInt && spec->kind == AttrKind::kFloat) {
      attrs[name] = static_cast<double>(std::get<int64_t>(value));  // 1 reads as 1.0 where a float is due
    } else if (kind != spec->kind) {
      fail("{}: attribute '{}' must be {}, got {}", op.name, name, attr_kind_name(spec->kind),
           attr_str(value));
    }
  }
  for (const AttrSpec& spec : op.attrs) {
    if (attrs.count(spec.name)) continue;
    if (!spec.default_value) fail("{}: missing attribute '{}'", op.name, spec.name);
    attrs[spec.name] = *spec.default_value;
  }
  return attrs;
}

}  // namespace stratum
