// What bench and compare need beside a net's step (train/step.h): random inputs, and the arithmetic it does.
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
#include "train/step.h"

namespace stratum {

// Multiply-adds ×2 of every conv2d and linear of the net's unfused forward graph, per image (as
// ../shared/bench/torch_anchor.py counts them; a training step counts three times this).
double forward_flops_per_image(const StepSpec& spec);

// A random tensor: f32 uniform in [-1,1), i32 in [0,10) (labels of the ten classes, or a dropout key).
Tensor random_tensor(const TensorType& type, std::mt19937_64& rng);
// A random tensor for every graph input, by name.
std::map<std::string, Tensor> random_feeds(const Graph& graph, uint64_t seed);

}  // namespace stratum
