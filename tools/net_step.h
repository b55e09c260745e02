// One step of a net as bench and compare run it: the graph (a training step or inference), random
// inputs, and the arithmetic it does.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "backends/plugin.h"
#include "backends/tensor.h"
#include "ir/graph.h"
#include "nets/nets.h"

namespace stratum {

struct StepSpec {
  const NetDef* net = nullptr;
  int64_t batch = 0, size = 0;  // 0: the recipe's
  bool training = true;         // a training step (forward, backward, SGD update) or inference
  bool fusion = true;           // run fuse_graph

  int64_t batch_or_recipe() const { return batch > 0 ? batch : net->recipe.batch; }
  int64_t size_or_recipe() const { return size > 0 ? size : net->recipe.input_size; }
  std::string mode() const { return training ? "train" : "infer"; }
  std::string fusion_name() const { return fusion ? "fused" : "unfused"; }
};

// The net's forward graph; for training, build_training_step at the recipe's lr and DCE; then, unless
// !spec.fusion, fuse_graph where every one of `plugins` runs the fused nodes (as train does for its one).
// Inference keeps the loss and the count of correct predictions as its outputs.
std::unique_ptr<Graph> build_step(const StepSpec& spec, const std::vector<const stratum_plugin*>& plugins);

// Multiply-adds ×2 of every conv2d and linear of the net's unfused forward graph, per image (as
// ../shared/bench/torch_anchor.py counts them; a training step counts three times this).
double forward_flops_per_image(const StepSpec& spec);

// A random tensor: f32 uniform in [-1,1), i32 in [0,10) (labels of the ten classes, or a dropout key).
Tensor random_tensor(const TensorType& type, std::mt19937_64& rng);
// A random tensor for every graph input, by name.
std::map<std::string, Tensor> random_feeds(const Graph& graph, uint64_t seed);

}  // namespace stratum
