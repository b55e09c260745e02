// Data parallelism in the training step: each rank computes the gradients of its shard of the batch, and
// allreduce nodes average them over the ranks (backends/world.h) before any update reads them.
#pragma once

#include <cstdint>
#include <vector>

#include "ir/graph.h"

namespace stratum {

// Gradients are reduced in buckets of about this many bytes, as PyTorch DDP's default: one collective call
// each, started as soon as the backward has computed the bucket's last gradient.
constexpr int64_t kAllreduceBucketBytes = 25 << 20;

// Adds allreduce nodes (reduce=mean) over `grads` in the order the backward computes them, each bucket's
// right after its last gradient, and returns the averaged gradients in the order of `grads`.
std::vector<Value*> allreduce_gradients(Graph& graph, const std::vector<Value*>& grads,
                                        int64_t bucket_bytes = kAllreduceBucketBytes);

// --sync-bn: every training batch_norm of the forward graph (before autodiff) computes its statistics over
// the whole batch, every rank's part (batch_norm's sync), and so does its backward.
void synchronise_batch_norms(Graph& graph);

}  // namespace stratum
