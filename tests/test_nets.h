// Small forward graphs shared by the tests: together they use every forward op, and after autodiff every
// backward op too.
#pragma once

#include <memory>

#include "ir/graph.h"

namespace stratum::testing {

// A forward graph through every forward op: conv2d (padded; grouped, strided and dilated), batch_norm
// (rank 4, of a concat, and rank 2), relu, sigmoid (one before avg_pool), max_pool and avg_pool with padding,
// concat, a residual add, dropout, global_avg_pool, flatten, reshape, softmax (along a middle axis), linear
// and the loss. Inputs %x [batch,3,8,8], %labels, %key.
// In inference (`training` false), batch_norm uses its running statistics and dropout passes x through.
std::unique_ptr<Graph> every_op_net(int64_t batch = 2, bool training = true);

// A small conv net with fan-out: a residual add and a concat of two branches. Inputs %x [batch,2,6,6] and
// %labels. Outputs %loss and %correct.
std::unique_ptr<Graph> residual_concat_net(int64_t batch = 2);

}  // namespace stratum::testing
