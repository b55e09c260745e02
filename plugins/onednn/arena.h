// The plugin's internal memory: buffers requested while a program compiles, placed by an ArenaPlan in one
// host allocation. `run` then allocates nothing, and a training step's working set stays small enough to
// stay in cache longer.
#pragma once

#include <algorithm>
#include <cstdlib>
#include <memory>

#include "backends/arena_plan.h"

namespace stratum::onednn {

class Arena {
 public:
  // A new buffer of `bytes`; returns its id. A buffer that is not `reusable` shares its bytes with none.
  int add(size_t bytes, bool reusable = true) { return plan_.add(bytes, reusable); }
  // Buffer `id` is read or written by call `call` (calls are numbered in run order).
  void use(int id, int call) { plan_.use(id, call); }
  // Places every buffer and allocates, zeroed; buffers whose call ranges overlap never overlap in memory.
  void plan();
  void* address(int id) const { return memory_.get() + plan_.offset(id); }
  // The bytes allocated, once planned: the plan's block, at least one alignment's worth.
  size_t bytes() const { return std::max(plan_.bytes(), kAlignment); }

 private:
  static constexpr size_t kAlignment = 64;  // a cache line, and what AVX-512 loads like best
  struct Free {
    void operator()(void* p) const { std::free(p); }
  };
  ArenaPlan plan_{kAlignment};
  std::unique_ptr<char, Free> memory_;
};

}  // namespace stratum::onednn
