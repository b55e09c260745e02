// Dropout's mask for C++ code: stratum_dropout_keep() of the plugin ABI, which every backend uses.
#pragma once

#include <cstdint>

#include "backends/plugin.h"

namespace stratum {

inline bool dropout_keep(int64_t seed, int32_t key, int64_t index, double p) {
  return stratum_dropout_keep(seed, key, index, p) != 0;
}

}  // namespace stratum
