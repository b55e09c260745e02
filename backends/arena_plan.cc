#include "backends/arena_plan.h"

#include <algorithm>
#include <climits>
#include <numeric>

namespace stratum {

size_t place_buffers(std::vector<BlockBuffer>& buffers, size_t alignment) {
  auto align_up = [&](size_t bytes) { return (bytes + alignment - 1) / alignment * alignment; };
  std::vector<size_t> order(buffers.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return align_up(buffers[a].bytes) > align_up(buffers[b].bytes);
  });
  std::vector<const BlockBuffer*> placed;
  size_t block = 0;
  for (size_t i : order) {
    BlockBuffer& buffer = buffers[i];
    std::vector<std::pair<size_t, size_t>> taken;  // [begin, end) of the placed buffers live with it
    for (const BlockBuffer* other : placed) {
      if (other->first <= buffer.last && buffer.first <= other->last)
        taken.emplace_back(other->offset, other->offset + other->bytes);
    }
    std::sort(taken.begin(), taken.end());
    size_t offset = 0;
    for (const auto& [begin, end] : taken) {
      if (offset + buffer.bytes <= begin) break;
      offset = std::max(offset, align_up(end));
    }
    buffer.offset = offset;
    block = std::max(block, align_up(offset + buffer.bytes));
    placed.push_back(&buffer);
  }
  return block;
}

int ArenaPlan::add(size_t bytes, bool reusable) {
  buffers_.push_back({bytes, INT_MAX, -1});
  reusable_.push_back(reusable);
  return static_cast<int>(buffers_.size() - 1);
}

void ArenaPlan::use(int id, int at) {
  BlockBuffer& b = buffers_.at(id);
  b.first = std::min(b.first, at);
  b.last = std::max(b.last, at);
}

void ArenaPlan::place() {
  for (size_t i = 0; i < buffers_.size(); ++i) {
    BlockBuffer& b = buffers_[i];
    if (!reusable_[i] || b.last < 0) b.first = 0, b.last = INT_MAX;  // apart from everything
  }
  bytes_ = place_buffers(buffers_, alignment_);
}

}  // namespace stratum
