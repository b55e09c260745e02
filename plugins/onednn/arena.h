// The plugin's internal memory: buffers requested while a program compiles, placed in one allocation so that
// buffers whose lifetimes (the steps that touch them) do not overlap share bytes. `run` then allocates
// nothing, and a training step's working set stays small enough to stay in cache longer.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <memory>
#include <vector>

namespace stratum::onednn {

class Arena {
 public:
  // A new buffer of `bytes`; returns its id. A buffer that is not `reusable` shares its bytes with none.
  int add(size_t bytes, bool reusable = true);
  // Buffer `id` is read or written by step `step` (steps are numbered in run order).
  void use(int id, int step);
  // Gives every buffer its place and allocates, zeroed; buffers whose step ranges overlap never overlap in
  // memory.
  void plan();
  void* address(int id) const;
  size_t bytes() const { return bytes_; }

 private:
  struct Buffer {
    size_t bytes;
    int first, last;  // the steps that first and last touch it
    bool reusable;
    size_t offset = 0;
  };
  struct Free {
    void operator()(void* p) const { std::free(p); }
  };
  std::vector<Buffer> buffers_;
  std::unique_ptr<char, Free> memory_;
  size_t bytes_ = 0;
};

}  // namespace stratum::onednn
