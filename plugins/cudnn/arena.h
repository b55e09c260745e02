// The plugin's device memory: every buffer a program needs (values inside the subgraph, temporaries,
// convolution workspaces) is requested while it compiles and placed in one cudaMalloc, buffers whose
// lifetimes (the steps that touch them) do not overlap sharing bytes. A run allocates nothing.
#pragma once

#include <cstddef>
#include <vector>

namespace stratum::cudnn {

class Arena {
 public:
  Arena() = default;
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;
  ~Arena();

  // A new buffer of `bytes`; returns its id.
  int add(size_t bytes);
  // Buffer `id` is read or written by step `step` (steps are numbered in run order).
  void use(int id, int step);
  // Places every buffer (greedy by size, each at the lowest offset free while it is alive), allocates the
  // whole, zeroed.
  void plan();
  char* address(int id) const { return memory_ + buffers_.at(id).offset; }
  size_t bytes() const { return bytes_; }

 private:
  struct Buffer {
    size_t bytes;
    int first, last;  // the steps that first and last touch it
    size_t offset = 0;
  };
  std::vector<Buffer> buffers_;
  char* memory_ = nullptr;
  size_t bytes_ = 0;
};

}  // namespace stratum::cudnn
