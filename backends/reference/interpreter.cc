#include "backends/reference/interpreter.h"

#include <cmath>
#include <random>

#include "backends/reference/kernels.h"
#include "ir/error.h"
#include "ir/op.h"

namespace stratum {

namespace {

// The bound of U(-bound, bound) for a value: its own, or Xavier's from its fans.
double uniform_bound(const Value& v) {
  if (v.init().kind == Init::kUniform) return v.init().bound;
  const Shape& shape = v.type().shape;
  if (shape.size() < 2) fail("xavier_uniform needs rank 2 or more: %{} is {}", v.name(), type_str(v.type()));
  const int64_t receptive = num_elements(Shape(shape.begin() + 2, shape.end()));
  return std::sqrt(6.0 / double(shape[1] * receptive + shape[0] * receptive));
}

Tensor initial_tensor(const Value& v, std::mt19937_64& rng) {
  if (v.type().dtype != DType::f32) {
    fail("cannot initialise %{}: {} is not f32", v.name(), type_str(v.type()));
  }
  Tensor t(v.type());
  float* data = t.f32();
  switch (v.init().kind) {
    case Init::kZeros:
      break;
    case Init::kOnes:
      std::fill(data, data + t.size(), 1.0f);
      break;
    case Init::kUniform:
    case Init::kXavierUniform: {
      // The top 53 bits as a double in [0,1), by hand: std::uniform_real_distribution differs between
      // standard libraries.
      const double bound = uniform_bound(v);
      for (int64_t i = 0; i < t.size(); ++i) {
        const double u = double(rng() >> 11) * 0x1p-53;
        data[i] = static_cast<float>((2 * u - 1) * bound);
      }
    }
  }
  return t;
}

// The tensor for a leaf: present under its name, with its type.
const Tensor& lookup(const std::map<std::string, Tensor>& tensors, const Value& leaf) {
  const char* what = leaf.kind() == ValueKind::kInput   ? "input"
                     : leaf.kind() == ValueKind::kParam ? "param"
                                                        : "state";
  auto it = tensors.find(leaf.name());
  if (it == tensors.end()) fail("{} %{} is missing", what, leaf.name());
  if (it->second.type() != leaf.type()) {
    fail("{} %{} must be {}, got {}", what, leaf.name(), type_str(leaf.type()), type_str(it->second.type()));
  }
  return it->second;
}

}  // namespace

Store init_store(const Graph& graph, uint64_t seed) {
  std::mt19937_64 rng(seed);
  Store store;
  for (const Value* leaf : graph.leaves()) {
    if (leaf->kind() != ValueKind::kInput) store[leaf->name()] = initial_tensor(*leaf, rng);
  }
  return store;
}

void Interpreter::run(const std::map<std::string, Tensor>& feeds, Store& store) {
  values_.clear();
  bind_leaves(feeds, store);
  for (const auto& node : graph_.nodes()) run_node(*node);
  for (const Update& update : graph_.updates()) store[update.target->name()] = value(update.value);
}

void Interpreter::bind_leaves(const std::map<std::string, Tensor>& feeds, const Store& store) {
  for (const Value* leaf : graph_.leaves()) {
    values_[leaf] = lookup(leaf->kind() == ValueKind::kInput ? feeds : store, *leaf);
  }
}

void Interpreter::run_node(const Node& node) {
  const Kernel* kernel = find_reference_kernel(node.op_name());
  if (kernel == nullptr) {
    fail("{}: the reference backend has no kernel for op '{}'", node.label(), node.op_name());
  }
  try {
    // Kernels compute in f32: bf16 inputs are widened (exactly) and bf16 outputs rounded once at the end, as
    // oneDNN's bf16 primitives accumulate in f32.
    std::vector<Tensor> widened;
    widened.reserve(node.inputs().size() + node.outputs().size());  // pointers into it stay valid
    std::vector<const Tensor*> inputs;
    for (const Value* v : node.inputs()) {
      const Tensor& t = value(v);
      inputs.push_back(t.type().dtype == DType::bf16 ? &widened.emplace_back(converted(t, DType::f32)) : &t);
    }
    std::vector<Tensor*> outputs;  // unordered_map keeps references valid as it grows
    for (const Value* v : node.outputs()) {
      Tensor& home = values_[v] = Tensor(v->type());
      const bool narrow = v->type().dtype == DType::bf16;
      outputs.push_back(narrow ? &widened.emplace_back(TensorType{DType::f32, v->type().shape}) : &home);
    }
    (*kernel)(node, inputs, outputs);
    for (size_t i = 0; i < outputs.size(); ++i) {
      const Value* v = node.output(i);
      if (v->type().dtype == DType::bf16) values_[v] = converted(*outputs[i], DType::bf16);
    }
  } catch (const Error& e) {
    fail("{}: {}", node.label(), e.what());
  }
}

const Tensor& Interpreter::value(const Value* v) const {
  auto it = values_.find(v);
  if (it == values_.end()) {
    fail("value %{} ({}) was not computed by the last run", v->name(), type_str(v->type()));
  }
  return it->second;
}

std::vector<Tensor> Interpreter::outputs() const {
  std::vector<Tensor> result;
  for (const Value* v : graph_.outputs()) result.push_back(value(v));
  return result;
}

}  // namespace stratum
