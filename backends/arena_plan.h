// Stratum's one placement of buffers in a block: the memory plan (passes/memory_plan.h) places a graph's
// values with it, and the plugins' arenas their internal buffers, so the planned peak and the bytes a plugin
// allocates come from the same algorithm. Buffers whose lifetimes (the positions in run order that touch
// them) do not overlap share bytes; the owner allocates the block (host or device memory) once, and a run
// allocates nothing.
#pragma once

#include <cstddef>
#include <vector>

namespace stratum {

// One buffer to place: its bytes and the positions in run order that first and last touch it, both included.
struct BlockBuffer {
  size_t bytes = 0;
  int first = 0, last = 0;
  size_t offset = 0;  // set by place_buffers
};

// Gives every buffer an offset, a multiple of `alignment`: greedy by size, the largest (its bytes rounded up
// to `alignment`) first, equals in the order given, each at the lowest offset where it overlaps no placed
// buffer whose position range meets its own (within a few percent of optimal on real nets). Returns the
// block's size: the end of the furthest buffer, rounded up to `alignment`.
size_t place_buffers(std::vector<BlockBuffer>& buffers, size_t alignment);

// A plugin's arena being planned: buffers requested while a program compiles, then placed by place_buffers.
class ArenaPlan {
 public:
  explicit ArenaPlan(size_t alignment) : alignment_(alignment) {}

  // A new buffer of `bytes`; returns its id. A buffer that is not `reusable` shares its bytes with none.
  int add(size_t bytes, bool reusable = true);
  // Buffer `id` is read or written at position `at` of the run (the plugin numbers its calls or launches in
  // run order).
  void use(int id, int at);
  // Gives every buffer its offset (place_buffers). A buffer no position touches is kept apart from
  // everything.
  void place();
  size_t offset(int id) const { return buffers_.at(id).offset; }
  // The block's size, once placed.
  size_t bytes() const { return bytes_; }

 private:
  size_t alignment_;
  std::vector<BlockBuffer> buffers_;
  std::vector<bool> reusable_;
  size_t bytes_ = 0;
};

}  // namespace stratum
