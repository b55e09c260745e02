#include "onnx/importer.h"

#include <onnx/shape_inference/implementation.h>

#include <cstring>
#include <filesystem>

#include "ir/error.h"

namespace stratum {

namespace {

// A value name made from an ONNX name: other characters become '_' ("onnx::Conv_12" -> "onnx__Conv_12").
std::string value_name_for(const std::string& onnx_name) {
  std::string name = onnx_name;
  for (char& c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.') c = '_';
  return is_value_name(name) ? name : "t" + name;
}

bool same_tensor(const Tensor& a, const Tensor& b) {
  return a.type() == b.type() && std::memcmp(a.data(), b.data(), a.type().bytes()) == 0;
}

std::string node_str(const onnx::NodeProto& n, int index, int64_t opset) {
  return fmt::format("node {}{} ({}, opset {})", index, n.name().empty() ? "" : " '" + n.name() + "'",
                     n.op_type(), opset);
}

const OpImporter& find_importer(const onnx::NodeProto& n) {
  if (!n.domain().empty() && n.domain() != "ai.onnx")
    fail("domain '{}' is not supported; Stratum imports the default domain's {}", n.domain(),
         supported_onnx_ops());
  for (const OpImporter& op : op_importers())
    if (n.op_type() == op.op) return op;
  fail("{} is not supported; Stratum imports {}", n.op_type(), supported_onnx_ops());
}

TensorType declared_type(const onnx::ValueInfoProto& info, int64_t batch) {
  const onnx::TypeProto::Tensor& t = info.type().tensor_type();
  if (!info.type().has_tensor_type())
    fail("input '{}' is not a tensor (a sequence, map or optional); Stratum's graphs take float tensors",
         info.name());
  if (t.elem_type() != onnx::TensorProto::FLOAT)
    fail("input '{}' is {}, not FLOAT; Stratum's graphs take float tensors", info.name(),
         onnx_type_name(t.elem_type()));
  if (!t.has_shape()) fail("input '{}' has no shape; Stratum needs static shapes", info.name());
  Shape shape;
  for (const onnx::TensorShapeProto::Dimension& dim : t.shape().dim()) {
    const bool batch_dim = shape.empty() && batch > 0;
    if (!dim.has_dim_value() && !batch_dim) {
      fail(
          "input '{}' has the dynamic dimension {} '{}'; Stratum needs static shapes (the batch, dim 0, is "
          "given by the tool)",
          info.name(), shape.size(), dim.dim_param());
    }
    shape.push_back(batch_dim ? batch : dim.dim_value());
  }
  TensorType type{DType::f32, shape};
  try {
    check_type(type);
  } catch (const Error& e) {
    fail("input '{}': {}", info.name(), e.what());
  }
  return type;
}

std::string dims_str(const onnx::TensorShapeProto& shape) {
  std::string s;
  for (const auto& d : shape.dim())
    s += (s.empty() ? "" : ",") + (d.has_dim_value() ? std::to_string(d.dim_value()) : d.dim_param());
  return "[" + s + "]";
}

}  // namespace

const onnx::AttributeProto* find_attr(const onnx::NodeProto& n, const std::string& name) {
  for (const onnx::AttributeProto& a : n.attribute())
    if (a.name() == name) return &a;
  return nullptr;
}

int64_t attr_int(const onnx::NodeProto& n, const std::string& name, int64_t fallback) {
  const onnx::AttributeProto* a = find_attr(n, name);
  return a ? a->i() : fallback;
}

float attr_float(const onnx::NodeProto& n, const std::string& name, float fallback) {
  const onnx::AttributeProto* a = find_attr(n, name);
  return a ? a->f() : fallback;
}

Ints attr_ints(const onnx::NodeProto& n, const std::string& name, Ints fallback) {
  const onnx::AttributeProto* a = find_attr(n, name);
  return a ? Ints(a->ints().begin(), a->ints().end()) : fallback;
}

std::string attr_string(const onnx::NodeProto& n, const std::string& name, std::string fallback) {
  const onnx::AttributeProto* a = find_attr(n, name);
  return a ? a->s() : fallback;
}

std::string supported_onnx_ops() {
  std::string names;
  for (const OpImporter& op : op_importers()) names += (names.empty() ? "" : ", ") + std::string(op.op);
  return names;
}

Importer::Importer(const OnnxModel& model, Layers& layers, Store& weights)
    : model_(model), layers_(layers), weights_(weights) {
  const onnx::GraphProto& g = model.proto.graph();
  for (const onnx::TensorProto& t : g.initializer()) constants_[t.name()] = t;
  for (const onnx::NodeProto& n : g.node())
    for (const std::string& name : n.input()) readers_[name].push_back(&n);
  for (const onnx::ValueInfoProto& out : g.output()) graph_outputs_.insert(out.name());
}

std::vector<Value*> Importer::run(const std::vector<Value*>& inputs) {
  size_t fed = 0;
  for (const onnx::ValueInfoProto& in : model_.proto.graph().input()) {
    if (constants_.count(in.name())) continue;  // an initializer listed as an input (IR version 3)
    if (fed == inputs.size()) fail("{}: the model has more inputs than the {} given", model_.path, fed);
    values_[in.name()] = inputs[fed++];
  }
  if (fed != inputs.size())
    fail("{}: the model has {} inputs, not the {} given", model_.path, fed, inputs.size());
  const onnx::GraphProto& g = model_.proto.graph();
  for (int i = 0; i < g.node_size(); ++i) {
    if (folded_.count(&g.node(i))) continue;
    try {
      emit(g.node(i));
    } catch (const Error& e) {
      fail("{}: {}: {}", model_.path, node_str(g.node(i), i, model_.opset), e.what());
    }
  }
  std::vector<Value*> outputs;
  for (const onnx::ValueInfoProto& out : g.output()) outputs.push_back(output_value(out.name()));
  check_output_shapes(inputs, outputs);
  return outputs;
}

// ONNX's strict shape inference, on the model with the inputs as fed (and its weights only as types), must
// agree with Stratum's on every output, as must the declared outputs but for their batch.
void Importer::check_output_shapes(const std::vector<Value*>& inputs,
                                   const std::vector<Value*>& outputs) const {
  // The model but its graph's inputs, value infos and initializers, which are rebuilt below: the weights'
  // bytes (hundreds of MB for VGG) are never copied.
  const onnx::GraphProto& source = model_.proto.graph();
  onnx::ModelProto copy;
  copy.set_ir_version(model_.proto.ir_version());
  *copy.mutable_opset_import() = model_.proto.opset_import();
  onnx::GraphProto& g = *copy.mutable_graph();
  *g.mutable_node() = source.node();
  *g.mutable_output() = source.output();
  for (size_t i = 0, fed = 0; i < size_t(source.input_size()); ++i) {
    const onnx::ValueInfoProto& in = source.input(i);
    if (constants_.count(in.name())) continue;
    onnx::ValueInfoProto& info = *g.add_input() = in;
    auto* dims = info.mutable_type()->mutable_tensor_type()->mutable_shape();
    dims->clear_dim();
    for (int64_t d : inputs[fed++]->type().shape) dims->add_dim()->set_dim_value(d);
  }
  for (const onnx::TensorProto& t : source.initializer()) {
    if (t.data_type() == onnx::TensorProto::INT64) {
      *g.add_initializer() = t;  // shapes, which inference reads
      continue;
    }
    onnx::ValueInfoProto& info = *g.add_input();
    info.set_name(t.name());
    info.mutable_type()->mutable_tensor_type()->set_elem_type(t.data_type());
    for (int64_t d : t.dims())
      info.mutable_type()->mutable_tensor_type()->mutable_shape()->add_dim()->set_dim_value(d);
  }
  for (onnx::ValueInfoProto& out : *g.mutable_output())
    out.mutable_type()->mutable_tensor_type()->clear_shape();
  try {
    onnx::shape_inference::InferShapes(copy, onnx::OpSchemaRegistry::Instance(), {true, 1, false});
  } catch (const std::exception& e) {
    fail("{}: ONNX's shape inference rejects the model: {}", model_.path, e.what());
  }
  for (int i = 0; i < g.output_size(); ++i) {
    const Shape& got = outputs[i]->type().shape;
    const auto& inferred = g.output(i).type().tensor_type().shape();
    const auto& declared = source.output(i).type().tensor_type().shape();
    for (const auto* shape : {&inferred, &declared}) {
      bool agrees = shape->dim_size() == 0 || shape->dim_size() == int(got.size());
      for (int k = 0; agrees && k < shape->dim_size(); ++k)
        agrees = !shape->dim(k).has_dim_value() || (shape == &declared && k == 0) ||
                 shape->dim(k).dim_value() == got[k];
      if (!agrees)
        fail("{}: output '{}' is {} as imported, but the model {} it {}", model_.path, g.output(i).name(),
             shape_str(got), shape == &declared ? "declares" : "(ONNX's shape inference) makes",
             dims_str(*shape));
    }
  }
}

void Importer::emit(const onnx::NodeProto& n) {
  const OpImporter& op = find_importer(n);
  for (const onnx::AttributeProto& a : n.attribute()) {
    if (std::find(op.attrs.begin(), op.attrs.end(), a.name()) == op.attrs.end())
      fail("attribute '{}' is not supported; Stratum's {} takes {}", a.name(), op.op,
           op.attrs.empty() ? "none" : fmt::format("{}", fmt::join(op.attrs, ", ")));
  }
  op.emit(*this, n);
}

Value* Importer::output_value(const std::string& name) {
  if (auto it = values_.find(name); it != values_.end()) return it->second;
  if (auto it = constants_.find(name); it != constants_.end())
    return param(name, f32_tensor(it->second), {Init::kZeros});
  fail("{}: graph output '{}' is produced by no node", model_.path, name);
}

Value* Importer::input(const onnx::NodeProto& n, int i, Init init) {
  if (!has_input(n, i)) fail("input {} is missing", i);
  if (auto it = values_.find(n.input(i)); it != values_.end()) return it->second;
  if (const onnx::TensorProto* c = constant(n, i)) return param(n.input(i), f32_tensor(*c), init);
  fail("input {} '{}' is produced by no earlier node", i, n.input(i));
}

const onnx::TensorProto* Importer::constant(const onnx::NodeProto& n, int i) const {
  if (!has_input(n, i)) return nullptr;
  auto it = constants_.find(n.input(i));
  return it == constants_.end() ? nullptr : &it->second;
}

const onnx::TensorProto& Importer::required_constant(const onnx::NodeProto& n, int i, const char* why) const {
  const onnx::TensorProto* c = constant(n, i);
  if (c == nullptr) fail("input {} '{}' must be a constant: {}", i, has_input(n, i) ? n.input(i) : "", why);
  return *c;
}

Value* Importer::param(const std::string& onnx_name, Tensor value, Init init, bool state) {
  const std::string base = value_name_for(onnx_name);
  std::string name = base;
  for (int k = 1; Value* existing = layers_.graph().find(name); ++k) {
    auto w = weights_.find(name);
    if (w != weights_.end() && same_tensor(w->second, value) &&
        existing->kind() == (state ? ValueKind::kState : ValueKind::kParam))
      return existing;  // the same constant read again
    name = fmt::format("{}_{}", base, k);
  }
  Graph& g = layers_.graph();
  Value* v = state ? g.add_state(name, value.type(), init) : g.add_param(name, value.type(), init);
  weights_[name] = std::move(value);
  return v;
}

void Importer::set_output(const onnx::NodeProto& n, int i, Value* value) {
  values_[n.output(i)] = value;
  const std::string name = value_name_for(n.output(i));
  if (value->name().empty() && layers_.graph().find(name) == nullptr) layers_.graph().rename(value, name);
}

void Importer::set_constant(const onnx::NodeProto& n, onnx::TensorProto value) {
  constants_[n.output(0)] = std::move(value);
}

void Importer::expect_unused_output(const onnx::NodeProto& n, int i) const {
  if (i >= n.output_size() || n.output(i).empty()) return;
  if (readers_.count(n.output(i)) || graph_outputs_.count(n.output(i)))
    fail("output {} '{}' is used, and Stratum does not compute it", i, n.output(i));
}

const onnx::NodeProto* Importer::sole_reader(const onnx::NodeProto& n) const {
  auto it = readers_.find(n.output(0));
  if (it == readers_.end() || it->second.size() != 1 || graph_outputs_.count(n.output(0))) return nullptr;
  return it->second[0];
}

std::vector<TensorType> onnx_input_types(const OnnxModel& model, int64_t batch) {
  std::set<std::string> initializers;
  for (const onnx::TensorProto& t : model.proto.graph().initializer()) initializers.insert(t.name());
  std::vector<TensorType> types;
  for (const onnx::ValueInfoProto& in : model.proto.graph().input()) {
    if (initializers.count(in.name())) continue;
    try {
      types.push_back(declared_type(in, batch));
    } catch (const Error& e) {
      fail("{}: {}", model.path, e.what());
    }
  }
  return types;
}

std::vector<Value*> import_onnx(const OnnxModel& model, Layers& layers, const std::vector<Value*>& inputs,
                                Store& weights) {
  return Importer(model, layers, weights).run(inputs);
}

}  // namespace stratum

namespace stratum {

namespace {

TensorType image_input_type(const OnnxModel& model) {
  const std::vector<TensorType> inputs = onnx_input_types(model, 1);
  if (inputs.size() != 1 || inputs[0].rank() != 4 || inputs[0].shape[1] != 1 ||
      inputs[0].shape[2] != inputs[0].shape[3]) {
    std::string types;
    for (const TensorType& t : inputs) types += " " + type_str(t);
    fail("{}: an image classifier takes one input [N,1,H,H] (greyscale, square); this model takes{}",
         model.path, types);
  }
  return inputs[0];
}

Value* classifier_logits(const OnnxModel& model, Layers& layers, Value* x, Store& weights) {
  const std::vector<Value*> outputs = import_onnx(model, layers, {x}, weights);
  if (outputs.size() != 1 || outputs[0]->type().rank() != 2)
    fail("{}: an image classifier has one output [N,classes]", model.path);
  Node* last = outputs[0]->producer();
  return last && last->op_name() == "softmax" ? last->input(0) : outputs[0];
}

}  // namespace

OnnxNet onnx_net(std::shared_ptr<const OnnxModel> model, Recipe recipe) {
  const TensorType input = image_input_type(*model);
  recipe.input_size = input.shape[2];
  OnnxNet net;
  net.net.name = std::filesystem::path(model->path).stem().string();
  net.net.description = "imported from " + model->path;
  net.net.recipe = recipe;
  net.net.body = [model, input](Layers& layers, Value* x) {
    if (Shape{x->type().shape.begin() + 1, x->type().shape.end()} !=
        Shape{input.shape.begin() + 1, input.shape.end()})
      fail("{}: the model takes images {}, not {} (--resize)", model->path, type_str(input),
           type_str(x->type()));
    Store unused;
    return classifier_logits(*model, layers, x, unused);
  };
  Graph scratch(net.net.name);
  Layers layers(scratch, /*training=*/false);
  classifier_logits(*model, layers, scratch.add_input("x", input), net.weights);
  return net;
}

}  // namespace stratum
