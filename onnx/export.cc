#include "onnx/export.h"

#include <unordered_set>

#include "ir/error.h"
#include "ir/printer.h"
#include "onnx/checker.h"
#include "onnx/export_ops.h"
#include "onnx/shape_inference/implementation.h"
#include "train/files.h"

namespace stratum {

namespace {

using onnx_export::Emitter;

// The nodes the logits are computed by, in graph order: the loss head and anything else only it reads are
// left out.
std::vector<const Node*> nodes_to_export(const Graph& graph, const Value* logits) {
  std::unordered_set<const Node*> needed;
  std::vector<const Value*> pending = {logits};
  while (!pending.empty()) {
    const Node* node = pending.back()->producer();
    pending.pop_back();
    if (node == nullptr || !needed.insert(node).second) continue;
    pending.insert(pending.end(), node->inputs().begin(), node->inputs().end());
  }
  std::vector<const Node*> order;
  for (const auto& node : graph.nodes()) {
    if (needed.count(node.get())) order.push_back(node.get());
  }
  return order;
}

// Each value's ONNX name: its printed name ("conv1.weight", "7"), but the logits, which are "logits".
std::unordered_map<const Value*, std::string> onnx_names(const Graph& graph, const Value* logits) {
  std::unordered_map<const Value*, std::string> names = printed_names(graph);
  for (auto& [value, name] : names) {
    if (value != logits && name == "logits")
      fail("the value %logits is not the logits (the input of softmax_cross_entropy); rename it");
  }
  names[logits] = "logits";
  return names;
}

void export_node(Emitter& emitter, const Graph& graph, const Node& node,
                 const std::unordered_map<const Value*, std::string>& printed) {
  try {
    onnx_export::OpExporter exporter = onnx_export::find_exporter(node.op_name());
    if (exporter == nullptr) fail("the op has no ONNX form (training and backward ops have none)");
    exporter(emitter, node);
  } catch (const Error& e) {
    fail("cannot export node {} (%{} = {}): {}", graph.index_of(&node), printed.at(node.output(0)),
         node.op_name(), e.what());
  }
}

// A tensor type with the batch dim (dim 0) symbolic: N.
onnx::TypeProto batched_type(const TensorType& type) {
  onnx::TypeProto proto;
  onnx::TypeProto_Tensor& tensor = *proto.mutable_tensor_type();
  tensor.set_elem_type(onnx::TensorProto::FLOAT);
  for (size_t i = 0; i < type.shape.size(); ++i) {
    onnx::TensorShapeProto_Dimension& dim = *tensor.mutable_shape()->add_dim();
    if (i == 0) {
      dim.set_dim_param("N");
    } else {
      dim.set_dim_value(type.shape[i]);
    }
  }
  return proto;
}

void add_value_info(google::protobuf::RepeatedPtrField<onnx::ValueInfoProto>& list, const std::string& name,
                    const TensorType& type) {
  onnx::ValueInfoProto& info = *list.Add();
  info.set_name(name);
  *info.mutable_type() = batched_type(type);
}

// The store's tensor for a weight, as an f32 initializer of the weight's name. ONNX's raw data is
// little-endian, as the host's bytes then are.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "raw_data is the tensor's bytes only on little-endian hosts");
void add_initializer(onnx::GraphProto& graph, const Value& weight, const Store& store) {
  auto it = store.find(weight.name());
  if (it == store.end())
    fail("the weights have no tensor %{} ({}), which the graph reads", weight.name(),
         type_str(weight.type()));
  const Tensor& tensor = it->second;
  if (tensor.type() != weight.type() || weight.type().dtype != DType::f32) {
    fail("the weights' %{} is {}, but the graph reads it as {} (only f32 exports)", weight.name(),
         type_str(tensor.type()), type_str(weight.type()));
  }
  onnx::TensorProto& proto = *graph.add_initializer();
  proto.set_name(weight.name());
  proto.set_data_type(onnx::TensorProto::FLOAT);
  for (int64_t dim : tensor.shape()) proto.add_dims(dim);
  proto.set_raw_data(tensor.data(), static_cast<size_t>(tensor.type().bytes()));
}

const Value& image_input(const Graph& graph) {
  const Value* x = graph.find("x");
  if (x == nullptr || x->kind() != ValueKind::kInput) fail("the graph has no input %x");
  if (x->type().dtype != DType::f32 || x->type().rank() != 4)
    fail("the input %x is {}; the ONNX model takes f32[N,C,H,W]", type_str(x->type()));
  return *x;
}

}  // namespace

const Value* logits_of(const Graph& graph) {
  const Value* logits = nullptr;
  for (const auto& node : graph.nodes()) {
    if (node->op_name() != "softmax_cross_entropy") continue;
    if (logits != nullptr) fail("the graph has more than one softmax_cross_entropy: which logits to export?");
    logits = node->input(0);
  }
  if (logits == nullptr) fail("the graph has no softmax_cross_entropy, whose input would be the logits");
  if (logits->is_leaf()) fail("the logits are %{}, a leaf, not computed from %x", logits->name());
  return logits;
}

onnx::ModelProto export_onnx(const Graph& graph, const Store& store) {
  const Value* logits = logits_of(graph);
  const Value& x = image_input(graph);
  onnx::ModelProto model;
  model.set_ir_version(kOnnxIrVersion);
  model.set_producer_name("stratum");
  model.add_opset_import()->set_version(kOnnxOpset);
  onnx::GraphProto& out = *model.mutable_graph();
  out.set_name(graph.name());
  add_value_info(*out.mutable_input(), "x", x.type());

  const auto printed = printed_names(graph);
  Emitter emitter(out, onnx_names(graph, logits));
  for (const Node* node : nodes_to_export(graph, logits)) export_node(emitter, graph, *node, printed);
  // An identity (dropout) as the last op leaves the logits named after its input
  const std::string& last = emitter.name(logits);
  if (last != "logits") emitter.add("Identity", {last}, "logits");
  add_value_info(*out.mutable_output(), "logits", logits->type());
  for (const Value* weight : emitter.weights()) add_initializer(out, *weight, store);
  return model;
}

void check_onnx(const onnx::ModelProto& model) {
  try {
    onnx::checker::check_model(model);
  } catch (const std::exception& e) {
    fail("the ONNX checker rejects the model: {}", e.what());
  }
  onnx::ModelProto inferred = model;  // inference adds value_info; the model stays as written
  try {
    onnx::shape_inference::InferShapes(inferred, onnx::OpSchemaRegistry::Instance(),
                                       {/*check_type=*/true, /*error_mode=*/1});
  } catch (const std::exception& e) {
    fail("ONNX shape inference rejects the model: {}", e.what());
  }
}

int64_t write_onnx(const onnx::ModelProto& model, const std::string& path) {
  std::string bytes;
  if (!model.SerializeToString(&bytes)) fail("cannot serialise the ONNX model for {} (over 2 GiB?)", path);
  write_file_atomically(path, bytes);
  return static_cast<int64_t>(bytes.size());
}

}  // namespace stratum
