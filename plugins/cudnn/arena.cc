#include "plugins/cudnn/arena.h"

#include <algorithm>
#include <climits>
#include <numeric>

#include "plugins/cudnn/device.h"

namespace stratum::cudnn {

namespace {

constexpr size_t kAlignment = 256;  // what cudaMalloc gives, and cuDNN's tensor cores like

size_t aligned(size_t bytes) { return (bytes + kAlignment - 1) / kAlignment * kAlignment; }

}  // namespace

Arena::~Arena() {
  if (memory_ != nullptr) cudaFree(memory_);
}

int Arena::add(size_t bytes) {
  buffers_.push_back({aligned(std::max<size_t>(bytes, 1)), INT_MAX, -1});
  return static_cast<int>(buffers_.size() - 1);
}

void Arena::use(int id, int step) {
  Buffer& b = buffers_.at(id);
  b.first = std::min(b.first, step);
  b.last = std::max(b.last, step);
}

void Arena::plan() {
  std::vector<size_t> order(buffers_.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return buffers_[a].bytes > buffers_[b].bytes; });
  std::vector<const Buffer*> placed;
  for (size_t i : order) {
    Buffer& b = buffers_[i];
    if (b.last < 0) b.first = 0, b.last = INT_MAX;  // never used by a step: apart from everything
    std::vector<const Buffer*> live;
    for (const Buffer* p : placed) {
      if (p->first <= b.last && b.first <= p->last) live.push_back(p);
    }
    std::sort(live.begin(), live.end(),
              [](const Buffer* x, const Buffer* y) { return x->offset < y->offset; });
    for (const Buffer* p : live) {
      if (b.offset + b.bytes <= p->offset) break;
      b.offset = std::max(b.offset, p->offset + p->bytes);
    }
    bytes_ = std::max(bytes_, b.offset + b.bytes);
    placed.push_back(&b);
  }
  check(cudaMalloc(&memory_, std::max(bytes_, kAlignment)), "cudaMalloc (the program's arena)");
  check(cudaMemset(memory_, 0, bytes_), "cudaMemset (the program's arena)");
}

}  // namespace stratum::cudnn
