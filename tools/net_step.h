// What bench and compare need beside a net's step (train/step.h): the arithmetic it does. (Their random
// inputs come from backends/random_feeds.h.)
#pragma once

#include "nets/nets.h"
#include "train/step.h"

namespace stratum {

// Multiply-adds ×2 of every conv2d and linear of the net's unfused forward graph, per image (as
// ../shared/bench/torch_anchor.py counts them; a training step counts three times this).
double forward_flops_per_image(const StepSpec& spec);

}  // namespace stratum
