// Layers with their parameters, initialised as the book's PyTorch code does: Xavier-uniform conv and linear
// weights, biases U(±1/sqrt(fan_in)), batch-norm γ=1, β=0, running mean 0 and variance 1. A named layer's
// nodes have its name as their origin (Node::origin); name_layers() gives the other nodes theirs.
#pragma once

#include <string>

#include "ir/builder.h"

namespace stratum {

// A batch norm's learned params and running statistics (state).
struct BatchNormParams {
  Value* gamma;
  Value* beta;
  Value* running_mean;
  Value* running_var;
};

class Layers {
 public:
  // In training, batch norm uses batch statistics and updates its running ones, and dropout drops.
  Layers(Graph& graph, bool training) : graph_(graph), ops_(graph), training_(training) {}

  Graph& graph() { return graph_; }
  Builder& ops() { return ops_; }
  bool training() const { return training_; }

  // conv2d with weight %<name>.weight [out, in/groups, k, k] and bias %<name>.bias.
  Value* conv(const std::string& name, Value* x, int64_t out_channels, int64_t kernel,
              const ConvAttrs& attrs = {});
  // batch_norm with %<name>.gamma, %<name>.beta and state %<name>.running_mean, %<name>.running_var.
  Value* batch_norm(const std::string& name, Value* x);
  // batch_norm with given values (attrs.training is ignored: the layers' own mode decides).
  Value* batch_norm(Value* x, const BatchNormParams& params, BatchNormAttrs attrs = {});
  // linear with weight %<name>.weight [out, in] and bias %<name>.bias.
  Value* linear(const std::string& name, Value* x, int64_t out_features);
  // dropout keyed by the per-step input %step (made on first use); each call gets its own seed.
  Value* dropout(Value* x, double p);
  // The loss and the count of correct predictions, as the graph's outputs %loss and %correct.
  void loss(Value* logits, Value* labels);

 private:
  Value* param(const std::string& name, Shape shape, Init init);

  Graph& graph_;
  Builder ops_;
  bool training_;
  Value* step_ = nullptr;
  int64_t dropouts_ = 0;
};

// Gives every node without an origin one, in graph order:
// - one that reads a param or state has that value's layer: its name less the last part (%conv1.weight:
//   conv1), as for imported models;
// - an elementwise node with one computed input (relu, sigmoid, dropout) has that input's producer's, so that
//   an activation counts with its layer whether or not fusion puts it into the layer's node;
// - any other (pooling, concat, add, flatten, the loss) is a layer of its own, named by its op and, where the
//   op occurs more than once among them, its place: "avg_pool1", "concat3", "softmax_cross_entropy".
void name_layers(Graph& graph);

}  // namespace stratum
