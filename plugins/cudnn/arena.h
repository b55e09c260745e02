// The plugin's device memory: every buffer a program needs (values inside the subgraph, temporaries,
// convolution workspaces) is requested while it compiles and placed in one cudaMalloc, buffers whose
// lifetimes (the launches that touch them) do not overlap sharing bytes. A run allocates nothing.
#pragma once

#include <algorithm>
#include <cstddef>

#include "backends/arena_plan.h"

namespace stratum::cudnn {

class Arena {
 public:
  Arena() = default;
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;
  ~Arena();

  // A new buffer of `bytes`; returns its id.
  int add(size_t bytes) { return plan_.add(bytes); }
  // Buffer `id` is read or written by launch `launch` (launches are numbered in run order).
  void use(int id, int launch) { plan_.use(id, launch); }
  // Places every buffer (backends/arena_plan.h) and allocates the whole, zeroed.
  void plan();
  char* address(int id) const { return memory_ + plan_.offset(id); }
  // The bytes allocated, once planned: the plan's block, at least one alignment's worth.
  size_t bytes() const { return std::max(plan_.bytes(), kAlignment); }

 private:
  static constexpr size_t kAlignment = 256;  // what cudaMalloc gives, and cuDNN's tensor cores like
  ArenaPlan plan_{kAlignment};
  char* memory_ = nullptr;
};

}  // namespace stratum::cudnn
