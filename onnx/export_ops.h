// Inside the exporter: the Emitter that writes ONNX nodes and tracks which weights they read, and each
// Stratum op's ONNX form.
#pragma once

#include <string>
#include <unordered_map>
#include <vector>

#include "ir/graph.h"
#include "onnx/onnx_pb.h"

namespace stratum::onnx_export {

class Emitter {
 public:
  // `names`: the ONNX name of each Stratum value.
  Emitter(onnx::GraphProto& graph, std::unordered_map<const Value*, std::string> names)
      : graph_(graph), names_(std::move(names)) {}

  // The ONNX name of a value a node reads. A param or state read becomes an initializer (see weights());
  // an input other than %x is an Error, since the model has no other input.
  const std::string& name(const Value* value);
  // From now on `value` is the ONNX value named after `same` (for ops that are the identity in inference).
  void alias(const Value* value, const Value* same);
  void add(const std::string& op, std::vector<std::string> inputs, const std::string& output,
           std::vector<onnx::AttributeProto> attrs = {});
  // Adds an int64 initializer and returns its name.
  const std::string& add_ints(const std::string& name, const std::vector<int64_t>& values);

  // The params and state the nodes read, in the order of their first use.
  const std::vector<const Value*>& weights() const { return weights_; }

 private:
  onnx::GraphProto& graph_;
  std::unordered_map<const Value*, std::string> names_;
  std::vector<const Value*> weights_;
};

// Writes one node's ONNX form; throws Error with the reason when it has none.
using OpExporter = void (*)(Emitter& emitter, const Node& node);
// The exporter of that op, or null for an op with no ONNX form.
OpExporter find_exporter(const std::string& op);

}  // namespace stratum::onnx_export
