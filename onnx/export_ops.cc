// Each Stratum op that can occur in an inference graph, as the standard ONNX ops it stands for. A fused op
// becomes the chain it fuses: conv2d with a residual and relu -> Conv, Add, Relu; a conv2d whose weights
// fold_batch_norm made -> Conv, BatchNormalization, ...
#include "onnx/export_ops.h"

#include <algorithm>
#include <map>

#include "ir/error.h"
#include "onnx/defs/attr_proto_util.h"

namespace stratum::onnx_export {

const std::string& Emitter::name(const Value* value) {
  const std::string& name = names_.at(value);
  if (value->kind() == ValueKind::kInput && value->name() != "x")
    fail("it reads the input %{}, and the ONNX model has no input but x", value->name());
  const bool weight = value->kind() == ValueKind::kParam || value->kind() == ValueKind::kState;
  if (weight && std::find(weights_.begin(), weights_.end(), value) == weights_.end())
    weights_.push_back(value);
  return name;
}

void Emitter::alias(const Value* value, const Value* same) { names_[value] = name(same); }

void Emitter::add(const std::string& op, std::vector<std::string> inputs, const std::string& output,
                  std::vector<onnx::AttributeProto> attrs) {
  onnx::NodeProto& node = *graph_.add_node();
  node.set_op_type(op);
  node.set_name(output);  // a value name is unique, so the node it makes is named by it
  for (std::string& input : inputs) node.add_input(std::move(input));
  node.add_output(output);
  for (onnx::AttributeProto& attr : attrs) *node.add_attribute() = std::move(attr);
}

const std::string& Emitter::add_ints(const std::string& name, const std::vector<int64_t>& values) {
  onnx::TensorProto& tensor = *graph_.add_initializer();
  tensor.set_name(name);
  tensor.set_data_type(onnx::TensorProto::INT64);
  tensor.add_dims(static_cast<int64_t>(values.size()));
  for (int64_t v : values) tensor.add_int64_data(v);
  return tensor.name();
}

namespace {

using onnx::MakeAttribute;
using Attributes = std::vector<onnx::AttributeProto>;

// One ONNX node of a chain: it reads the previous step's output (but the first step), then `inputs`.
struct Step {
  std::string op;
  std::vector<std::string> inputs;
  Attributes attrs = {};
};

// Emits the steps into the node's output; the values between them are named after it ("%y/Conv"), with a
// '/' that no Stratum name has.
void emit_chain(Emitter& e, const Node& node, std::vector<Step> steps) {
  const std::string out = e.name(node.output(0));
  std::string previous;
  for (size_t i = 0; i < steps.size(); ++i) {
    Step& step = steps[i];
    if (i > 0) step.inputs.insert(step.inputs.begin(), previous);
    previous = i + 1 == steps.size() ? out : out + "/" + step.op;
    e.add(step.op, std::move(step.inputs), previous, std::move(step.attrs));
  }
}

// The names of the node's inputs [begin, end).
std::vector<std::string> names(Emitter& e, const Node& node, size_t begin, size_t end) {
  std::vector<std::string> list;
  for (size_t i = begin; i < end; ++i) list.push_back(e.name(node.input(i)));
  return list;
}

// The fused tail of conv2d, add, linear and batch_norm: + residual (when given), then relu (when set).
void add_tail(Emitter& e, const Node& node, std::vector<Step>& steps, const Value* residual = nullptr) {
  if (residual != nullptr) steps.push_back({"Add", {e.name(residual)}});
  if (node.attr_bool("relu")) steps.push_back({"Relu", {}});
}

Step batch_normalization(Emitter& e, const Node& node, size_t gamma) {
  return {"BatchNormalization",
          names(e, node, gamma, gamma + 4),
          {MakeAttribute("epsilon", static_cast<float>(node.attr_float("eps")))}};
}

// Stratum pads symmetrically: [h, w] -> ONNX's [h_begin, w_begin, h_end, w_end].
std::vector<int64_t> pads(const Ints& padding) { return {padding[0], padding[1], padding[0], padding[1]}; }

Step conv(Emitter& e, const Node& node, const Value* w, const Value* b) {
  const Shape& kernel = w->type().shape;
  Step step{"Conv", {e.name(node.input(0)), e.name(w)}};
  if (b != nullptr) step.inputs.push_back(e.name(b));
  step.attrs = {MakeAttribute("kernel_shape", std::vector<int64_t>{kernel[2], kernel[3]}),
                MakeAttribute("strides", node.attr_ints("stride")),
                MakeAttribute("pads", pads(node.attr_ints("padding"))),
                MakeAttribute("dilations", node.attr_ints("dilation")),
                MakeAttribute("group", node.attr_int("groups"))};
  return step;
}

// A conv2d reads fold_batch_norm's outputs exactly as its weight and bias.
bool reads_fold(const Node& conv, const Node& fold) {
  return conv.op_name() == "conv2d" && conv.inputs().size() >= 3 && conv.input(1) == fold.output(0) &&
         conv.input(2) == fold.output(1);
}

// conv2d(x, w, [b, [residual]]); a weight and bias that fold_batch_norm made are the original conv followed
// by the batch norm it folded.
void export_conv2d(Emitter& e, const Node& node) {
  const Value* residual = node.inputs().size() == 4 ? node.input(3) : nullptr;
  const Node* fold = node.input(1)->producer();
  std::vector<Step> steps;
  if (fold != nullptr && fold->op_name() == "fold_batch_norm") {
    if (!reads_fold(node, *fold)) fail("its weight comes from fold_batch_norm but its bias does not");
    steps = {conv(e, node, fold->input(0), fold->input(1)), batch_normalization(e, *fold, 2)};
  } else {
    steps = {conv(e, node, node.input(1), node.inputs().size() >= 3 ? node.input(2) : nullptr)};
  }
  add_tail(e, node, steps, residual);
  emit_chain(e, node, std::move(steps));
}

// Written by the conv2d that reads it (above); any other reader has no ONNX form.
void export_fold_batch_norm(Emitter&, const Node& node) {
  for (const Value* out : node.outputs()) {
    for (const Node* user : out->users()) {
      if (!reads_fold(*user, node))
        fail("{} reads its output; only a conv2d reading both outputs as weight and bias can", user->label());
    }
  }
}

void export_linear(Emitter& e, const Node& node) {
  std::vector<Step> steps = {
      {"Gemm", names(e, node, 0, node.inputs().size()), {MakeAttribute("transB", int64_t{1})}}};
  add_tail(e, node, steps);
  emit_chain(e, node, std::move(steps));
}

void export_batch_norm(Emitter& e, const Node& node) {
  if (node.attr_bool("training")) fail("batch_norm in training mode; export the net's inference graph");
  std::vector<Step> steps = {batch_normalization(e, node, 1)};
  steps[0].inputs.insert(steps[0].inputs.begin(), e.name(node.input(0)));
  add_tail(e, node, steps);
  emit_chain(e, node, std::move(steps));
}

// concat_batch_norm(x_1, ..., x_k, gamma, beta, mean, var): the concat it avoids, then the batch norm.
void export_concat_batch_norm(Emitter& e, const Node& node) {
  const size_t k = node.inputs().size() - 4;
  std::vector<Step> steps = {{"Concat", names(e, node, 0, k), {MakeAttribute("axis", int64_t{1})}},
                             batch_normalization(e, node, k)};
  add_tail(e, node, steps);
  emit_chain(e, node, std::move(steps));
}

void export_add(Emitter& e, const Node& node) {
  std::vector<Step> steps = {{"Add", names(e, node, 0, 2)}};
  add_tail(e, node, steps);
  emit_chain(e, node, std::move(steps));
}

// An op of one input that maps to one ONNX op with no attributes.
template <const char* kOp>
void export_unary(Emitter& e, const Node& node) {
  e.add(kOp, {e.name(node.input(0))}, e.name(node.output(0)));
}
constexpr char kRelu[] = "Relu", kSigmoid[] = "Sigmoid", kGlobalAveragePool[] = "GlobalAveragePool";

Attributes pool_attrs(const Node& node) {
  return {MakeAttribute("kernel_shape", node.attr_ints("kernel")),
          MakeAttribute("strides", node.attr_ints("stride")),
          MakeAttribute("pads", pads(node.attr_ints("padding")))};
}

void export_max_pool(Emitter& e, const Node& node) {
  e.add("MaxPool", {e.name(node.input(0))}, e.name(node.output(0)), pool_attrs(node));
}

// Stratum's avg_pool counts padded positions in the divisor unless count_include_pad is false, as ONNX's.
void export_avg_pool(Emitter& e, const Node& node) {
  Attributes attrs = pool_attrs(node);
  attrs.push_back(MakeAttribute("count_include_pad", int64_t{node.attr_bool("count_include_pad")}));
  e.add("AveragePool", {e.name(node.input(0))}, e.name(node.output(0)), std::move(attrs));
}

void export_flatten(Emitter& e, const Node& node) {
  e.add("Flatten", {e.name(node.input(0))}, e.name(node.output(0)), {MakeAttribute("axis", int64_t{1})});
}

// The target shape's batch entry is 0 (ONNX: "copy the input's"), so that the batch stays symbolic.
void export_reshape(Emitter& e, const Node& node) {
  std::vector<int64_t> shape = node.attr_ints("shape");
  if (shape[0] != node.input(0)->type().shape[0])
    fail("it changes the batch dim ({} to {}), which a model with a symbolic batch cannot",
         type_str(node.input(0)->type()), shape_str(shape));
  shape[0] = 0;
  const std::string& out = e.name(node.output(0));
  e.add("Reshape", {e.name(node.input(0)), e.add_ints(out + "/shape", shape)}, out);
}

void export_concat(Emitter& e, const Node& node) {
  e.add("Concat", names(e, node, 0, node.inputs().size()), e.name(node.output(0)),
        {MakeAttribute("axis", node.attr_int("axis"))});
}

// Along one axis other than the batch (symbolic in the model), as ONNX's Slice with its starts, ends and
// axes as initializers.
void export_slice(Emitter& e, const Node& node) {
  const int64_t axis = node.attr_int("axis");
  if (axis == 0) fail("it slices the batch dim, which a model with a symbolic batch cannot");
  const std::string& out = e.name(node.output(0));
  e.add("Slice",
        {e.name(node.input(0)), e.add_ints(out + "/starts", {node.attr_int("begin")}),
         e.add_ints(out + "/ends", {node.attr_int("end")}), e.add_ints(out + "/axes", {axis})},
        out);
}

void export_softmax(Emitter& e, const Node& node) {
  e.add("Softmax", {e.name(node.input(0))}, e.name(node.output(0)),
        {MakeAttribute("axis", node.attr_int("axis"))});
}

// Inference dropout is the identity: its output is its input.
void export_dropout(Emitter& e, const Node& node) { e.alias(node.output(0), node.input(0)); }

}  // namespace

OpExporter find_exporter(const std::string& op) {
  static const std::map<std::string, OpExporter> exporters = {
      {"conv2d", export_conv2d},
      {"fold_batch_norm", export_fold_batch_norm},
      {"linear", export_linear},
      {"batch_norm", export_batch_norm},
      {"concat_batch_norm", export_concat_batch_norm},
      {"add", export_add},
      {"relu", export_unary<kRelu>},
      {"sigmoid", export_unary<kSigmoid>},
      {"global_avg_pool", export_unary<kGlobalAveragePool>},
      {"max_pool", export_max_pool},
      {"avg_pool", export_avg_pool},
      {"flatten", export_flatten},
      {"reshape", export_reshape},
      {"concat", export_concat},
      {"slice", export_slice},
      {"dropout", export_dropout},
      {"softmax", export_softmax},
  };
  auto it = exporters.find(op);
  return it == exporters.end() ? nullptr : it->second;
}

}  // namespace stratum::onnx_export
