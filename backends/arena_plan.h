// Where a plugin's internal buffers go: each buffer requested while a program compiles gets an offset in one
// block, and buffers whose lifetimes (the positions in run order that touch them) do not overlap share bytes.
// The plugin allocates the block (host or device memory) once; a run then allocates nothing.
#pragma once

#include <cstddef>
#include <vector>

namespace stratum {

class ArenaPlan {
 public:
  explicit ArenaPlan(size_t alignment) : alignment_(alignment) {}

  // A new buffer of `bytes`; returns its id. A buffer that is not `reusable` shares its bytes with none.
  int add(size_t bytes, bool reusable = true);
  // Buffer `id` is read or written at position `at` of the run (the plugin numbers its calls or launches in
  // run order).
  void use(int id, int at);
  // Gives every buffer its offset: greedy by size, the largest first, each at the lowest offset where it
  // collides with no placed buffer alive at the same time (within a few percent of optimal on real nets).
  // A buffer no position touches is kept apart from everything.
  void place();
  size_t offset(int id) const { return buffers_.at(id).offset; }
  // The block's size, once placed.
  size_t bytes() const { return bytes_; }

 private:
  struct Buffer {
    size_t bytes;
    int first, last;  // the positions that first and last touch it
    bool reusable;
    size_t offset = 0;
  };
  size_t alignment_;
  std::vector<Buffer> buffers_;
  size_t bytes_ = 0;
};

}  // namespace stratum
