// Random inputs for a graph, drawn from one seeded generator: what tests, the conformance suite, bench and
// compare feed a graph when the numbers themselves do not matter.
#pragma once

#include <cstdint>
#include <map>
#include <random>
#include <string>

#include "backends/tensor.h"
#include "ir/graph.h"
#include "ir/op.h"

namespace stratum {

// A random tensor: f32 uniform in [-1,1) (or as `fill` says, ir/op.h; bf16: those rounded, distinct ones
// to integers), i32 in [0,classes) (labels below the net's class count, or a dropout key, which may be any
// int). One draw of `rng` per element, whatever the dtype (and a shuffle for Fill::kDistinct).
Tensor random_tensor(const TensorType& type, std::mt19937_64& rng, int32_t classes = 10,
                     Fill fill = Fill::kUniform);

// A random tensor for every graph input, by name, drawn in input order from a generator seeded with `seed`.
std::map<std::string, Tensor> random_feeds(const Graph& graph, uint64_t seed, int32_t classes = 10);

}  // namespace stratum
