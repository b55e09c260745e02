#include "plugins/cudnn/arena.h"

#include <algorithm>

#include "plugins/cudnn/device.h"

namespace stratum::cudnn {

Arena::~Arena() {
  if (memory_ != nullptr) cudaFree(memory_);
}

void Arena::plan() {
  plan_.place();
  check(cudaMalloc(&memory_, std::max(plan_.bytes(), kAlignment)), "cudaMalloc (the program's arena)");
  check(cudaMemset(memory_, 0, plan_.bytes()), "cudaMemset (the program's arena)");
}

}  // namespace stratum::cudnn
