// The attributes of conv2d, the pools, batch_norm and the optimizers as C++ structs, for the builder
// (ir/builder.h). Their default member values are the only place these defaults are written: the op registry
// (ir/ops/*.cc) reads its AttrSpec defaults from default-constructed structs, so that b.conv2d(x, w) and the
// parsed text `conv2d(%x, %w)` cannot come to mean different things. (kernel and stride of a pool have no
// default.)
#pragma once

#include <cstdint>
#include <string>

#include "ir/attr.h"

namespace stratum {

struct ConvAttrs {
  Ints stride = {1, 1};
  Ints padding = {0, 0};
  Ints dilation = {1, 1};
  int64_t groups = 1;
};

struct PoolAttrs {
  Ints kernel;
  Ints stride;
  Ints padding = {0, 0};
  bool count_include_pad = true;  // avg_pool's divisor (ir/ops/pool.cc); max_pool has none
};

// The optimizer a training step updates its params with (passes/autodiff.h: build_training_step); its
// values are the update ops' attribute defaults (ir/ops/optimizer.cc).
struct OptimizerAttrs {
  std::string kind = "sgd";  // sgd, sgdw, adam, adamw ("w": decoupled weight decay)
  double momentum = 0;       // sgd and sgdw: 0 plain SGD (sgd_update), else momentum_update
  bool nesterov = false;
  double weight_decay = 0;
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;  // adam and adamw
  double clip_norm = 0;                           // > 0: gradients clipped to this global norm
};

struct BatchNormAttrs {
  double eps = 1e-5;
  double momentum = 0.1;
  bool training = true;
};

}  // namespace stratum
