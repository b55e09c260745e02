#include "plugins/cudnn/arena.h"

#include <algorithm>

#include "plugins/cudnn/device.h"

namespace stratum::cudnn {

Arena::~Arena() {
  if (memory_ != nullptr) cudaFree(memory_);
}

void Arena::plan() {
  plan_.place();
  check(cudaMalloc(&memory_, bytes()), "cudaMalloc (the program's arena)");
  // On the plugin's stream (which does not wait for the default one), done before the first run.
  check(cudaMemsetAsync(memory_, 0, plan_.bytes(), device().stream), "cudaMemsetAsync (the program's arena)");
  check(cudaStreamSynchronize(device().stream), "cudaStreamSynchronize (the program's arena)");
}

}  // namespace stratum::cudnn
