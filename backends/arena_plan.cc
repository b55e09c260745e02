#include "backends/arena_plan.h"

#include <algorithm>
#include <climits>
#include <numeric>

namespace stratum {

int ArenaPlan::add(size_t bytes, bool reusable) {
  const size_t rounded = (std::max<size_t>(bytes, 1) + alignment_ - 1) / alignment_ * alignment_;
  buffers_.push_back({rounded, INT_MAX, -1, reusable});
  return static_cast<int>(buffers_.size() - 1);
}

void ArenaPlan::use(int id, int at) {
  Buffer& b = buffers_.at(id);
  b.first = std::min(b.first, at);
  b.last = std::max(b.last, at);
}

void ArenaPlan::place() {
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
}

}  // namespace stratum
