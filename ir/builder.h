// The C++ builder API: any op by name, and typed methods for the forward ops that nets write, so that net
// code reads like the net.
//
//   Builder b(graph);
//   Value* y = b.relu(b.conv2d(x, w, bias, {.padding = {2, 2}}));
//   auto [loss, correct] = b.softmax_cross_entropy(b.linear(b.flatten(y), fc_w, fc_b), labels);
//
// Every method checks its inputs and attributes through the op registry (Error on a mismatch) and returns
// the new node's output. Backward ops are made by autodiff, not by hand. The attribute structs (ConvAttrs,
// PoolAttrs, BatchNormAttrs) and their defaults are in ir/op_attrs.h.
#pragma once

#include <string>
#include <vector>

#include "ir/graph.h"
#include "ir/op_attrs.h"

namespace stratum {

struct BatchNormOutputs {
  Value* y;
  Value* new_running_mean;  // null in inference
  Value* new_running_var;   // null in inference
};

struct LossOutputs {
  Value* loss;
  Value* correct;
};

class Builder {
 public:
  explicit Builder(Graph& graph) : graph_(graph) {}
  Graph& graph() { return graph_; }

  // Any op by name: a node of op `name` on `inputs`, returning its first output. A new op needs no method
  // here.
  Value* op(std::string_view name, std::vector<Value*> inputs, Attrs attrs = {});

  // Methods where the call has structure: attribute structs, optional inputs, several outputs.
  Value* conv2d(Value* x, Value* weight, Value* bias = nullptr, const ConvAttrs& attrs = {});
  // With training, the running statistics' new values are returned for the caller to declare as updates.
  BatchNormOutputs batch_norm(Value* x, Value* gamma, Value* beta, Value* running_mean, Value* running_var,
                              const BatchNormAttrs& attrs = {});
  Value* dropout(Value* x, Value* key, double p, int64_t seed, bool training = true);
  Value* max_pool(Value* x, const PoolAttrs& attrs);
  Value* avg_pool(Value* x, const PoolAttrs& attrs);
  Value* linear(Value* x, Value* weight, Value* bias = nullptr);
  Value* concat(const std::vector<Value*>& xs, int64_t axis = 1) {
    return op("concat", xs, {{"axis", axis}});
  }
  LossOutputs softmax_cross_entropy(Value* logits, Value* labels);

  // Shorthands that only name the op, so that net code reads like the net.
  Value* relu(Value* x) { return op("relu", {x}); }
  Value* sigmoid(Value* x) { return op("sigmoid", {x}); }
  Value* softmax(Value* x, int64_t axis) { return op("softmax", {x}, {{"axis", axis}}); }
  Value* add(Value* a, Value* b) { return op("add", {a, b}); }
  Value* global_avg_pool(Value* x) { return op("global_avg_pool", {x}); }
  Value* flatten(Value* x) { return op("flatten", {x}); }
  Value* reshape(Value* x, Shape shape) { return op("reshape", {x}, {{"shape", std::move(shape)}}); }

 private:
  Graph& graph_;
};

}  // namespace stratum
