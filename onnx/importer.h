// The importer's state while it adds one model's nodes to a graph (importer.cc), and the table of what each
// ONNX op becomes (import_ops.cc).
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "onnx/import.h"

namespace stratum {

class Importer {
 public:
  Importer(const OnnxModel& model, Layers& layers, Store& weights);
  std::vector<Value*> run(const std::vector<Value*>& inputs);

  // What the op emitters use.
  Layers& layers() { return layers_; }
  Builder& ops() { return layers_.ops(); }
  int64_t opset() const { return model_.opset; }
  // Whether input i is given (present and not the empty name of an omitted optional input).
  static bool has_input(const onnx::NodeProto& n, int i) { return i < n.input_size() && !n.input(i).empty(); }
  // Input i as a graph value: a computed one, or a constant made a param with `init`.
  Value* input(const onnx::NodeProto& n, int i, Init init = {});
  // Input i when it is a constant (an initializer or a Constant's output); null when it is computed.
  const onnx::TensorProto* constant(const onnx::NodeProto& n, int i) const;
  // Input i as a constant; Error saying `why` it must be one.
  const onnx::TensorProto& required_constant(const onnx::NodeProto& n, int i, const char* why) const;
  // A param (or state) holding `value`, named after the ONNX tensor `onnx_name`.
  Value* param(const std::string& onnx_name, Tensor value, Init init, bool state = false);
  void set_output(const onnx::NodeProto& n, int i, Value* value);
  void set_constant(const onnx::NodeProto& n, onnx::TensorProto value);
  // Error when output i of the node is read by a node or is a graph output.
  void expect_unused_output(const onnx::NodeProto& n, int i) const;
  // The one node reading n's output 0 when there is exactly one reader and that output is not a graph
  // output; else null.
  const onnx::NodeProto* sole_reader(const onnx::NodeProto& n) const;
  // Marks a later node as done: an emitter has folded it into this one.
  void fold(const onnx::NodeProto& later) { folded_.insert(&later); }

 private:
  void emit(const onnx::NodeProto& n);
  void check_output_shapes(const std::vector<Value*>& inputs, const std::vector<Value*>& outputs) const;
  Value* output_value(const std::string& name);

  const OnnxModel& model_;
  Layers& layers_;
  Store& weights_;
  std::map<std::string, Value*> values_;                // computed ONNX values
  std::map<std::string, onnx::TensorProto> constants_;  // initializers and Constant outputs
  std::map<std::string, std::vector<const onnx::NodeProto*>> readers_;
  std::set<std::string> graph_outputs_;
  std::set<const onnx::NodeProto*> folded_;
};

// ONNX attributes, by name, with the default where the node has none.
const onnx::AttributeProto* find_attr(const onnx::NodeProto& n, const std::string& name);
int64_t attr_int(const onnx::NodeProto& n, const std::string& name, int64_t fallback);
float attr_float(const onnx::NodeProto& n, const std::string& name, float fallback);
Ints attr_ints(const onnx::NodeProto& n, const std::string& name, Ints fallback);
std::string attr_string(const onnx::NodeProto& n, const std::string& name, std::string fallback);

// What an ONNX op becomes: the attributes its emitter reads (any other is an Error) and the emitter.
struct OpImporter {
  const char* op;
  std::vector<std::string> attrs;
  void (*emit)(Importer& importer, const onnx::NodeProto& n);
};
const std::vector<OpImporter>& op_importers();

}  // namespace stratum
