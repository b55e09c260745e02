#include "plugins/onednn/arena.h"

#include <algorithm>
#include <climits>
#include <cstring>
#include <numeric>
#include <stdexcept>

namespace stratum::onednn {

namespace {

constexpr size_t kAlignment = 64;  // a cache line, and what AVX-512 loads like best

size_t aligned(size_t bytes) { return (bytes + kAlignment - 1) / kAlignment * kAlignment; }

}  // namespace

int Arena::add(size_t bytes, bool reusable) {
  buffers_.push_back({aligned(std::max<size_t>(bytes, 1)), INT_MAX, -1, reusable});
  return static_cast<int>(buffers_.size() - 1);
}

void Arena::use(int id, int step) {
  Buffer& b = buffers_.at(id);
  b.first = std::min(b.first, step);
  b.last = std::max(b.last, step);
}

// Greedy by size: the largest buffers are placed first, each at the lowest offset where it collides with no
// placed buffer that is alive at the same time. Simple, and within a few percent of optimal on real nets.
void Arena::plan() {
  std::vector<size_t> order(buffers_.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return buffers_[a].bytes > buffers_[b].bytes; });
  std::vector<const Buffer*> placed;
  bytes_ = 0;
  for (size_t i : order) {
    Buffer& b = buffers_[i];
    if (!b.reusable || b.last < 0) b.first = 0, b.last = INT_MAX;  // apart from everything
    std::vector<const Buffer*> live;
    for (const Buffer* p : placed) {
      if (p->first <= b.last && b.first <= p->last) live.push_back(p);
    }
    std::sort(live.begin(), live.end(),
              [](const Buffer* x, const Buffer* y) { return x->offset < y->offset; });
    size_t offset = 0;
    for (const Buffer* p : live) {
      if (offset + b.bytes <= p->offset) break;
      offset = std::max(offset, p->offset + p->bytes);
    }
    b.offset = offset;
    bytes_ = std::max(bytes_, offset + b.bytes);
    placed.push_back(&b);
  }
  memory_.reset(static_cast<char*>(std::aligned_alloc(kAlignment, std::max(bytes_, kAlignment))));
  if (!memory_) throw std::bad_alloc();
  std::memset(memory_.get(), 0, bytes_);
}

void* Arena::address(int id) const { return memory_.get() + buffers_.at(id).offset; }

}  // namespace stratum::onednn
