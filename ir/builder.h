// The C++ builder API: one typed method per forward op, so that net code reads like the net.
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

  Value* conv2d(Value* x, Value* weight, Value* bias = nullptr, const ConvAttrs& attrs = {});
  // With training, the running statistics' new values are returned for the caller to declare as updates.
  BatchNormOutputs batch_norm(Value* x, Value* gamma, Value* beta, Value* running_mean, Value* running_var,
                              const BatchNormAttrs& attrs = {});
  Value* relu(Value* x);
  Value* sigmoid(Value* x);
  Value* softmax(Value* x, int64_t axis);
  Value* add(Value* a, Value* b);
  Value* dropout(Value* x, Value* key, double p, int64_t seed, bool training = true);
  Value* max_pool(Value* x, const PoolAttrs& attrs);
  Value* avg_pool(Value* x, const PoolAttrs& attrs);
  Value* global_avg_pool(Value* x);
  Value* linear(Value* x, Value* weight, Value* bias = nullptr);
  Value* flatten(Value* x);
  Value* reshape(Value* x, Shape shape);
  Value* concat(const std::vector<Value*>& xs, int64_t axis = 1);
  LossOutputs softmax_cross_entropy(Value* logits, Value* labels);

 private:
  // Adds a node and returns its one output.
  Value* single(std::string_view op, std::vector<Value*> inputs, Attrs attrs = {});
  Graph& graph_;
};

}  // namespace stratum
