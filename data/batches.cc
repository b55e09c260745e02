#include "data/batches.h"

#include <algorithm>
#include <numeric>
#include <random>

#include "ir/error.h"

namespace stratum {

namespace {
constexpr size_t kAhead = 2;  // batches prepared ahead of the one in use
}

BatchLoader::BatchLoader(const Dataset& data, int64_t batch, int64_t size, bool shuffle, uint64_t seed,
                         int64_t limit, bool keep_partial, const Augment& augment, Shard shard)
    : data_(data),
      batch_(batch),
      size_(size),
      examples_(limit > 0 ? std::min(limit, data.count) : data.count),
      shuffle_(shuffle),
      keep_partial_(keep_partial),
      seed_(seed),
      augment_(augment),
      shard_(shard) {
  if (batch <= 0 || size <= 0) fail("batch and image size must be positive, got {} and {}", batch, size);
  if (shard.count < 1 || shard.index < 0 || shard.index >= shard.count || batch % shard.count != 0 ||
      (keep_partial && shard.count > 1))
    fail("a batch of {} has no part {} of {}", batch, shard.index, shard.count);
  if (batches_per_epoch() == 0) fail("{} examples make no batch of {}", examples_, batch);
}

BatchLoader::~BatchLoader() { stop_worker(); }

void BatchLoader::stop_worker() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  if (worker_.joinable()) worker_.join();
  stopping_ = false;
}

int64_t BatchLoader::batches_per_epoch() const {
  return keep_partial_ ? (examples_ + batch_ - 1) / batch_ : examples_ / batch_;
}

int64_t BatchLoader::examples_per_epoch() const {
  return keep_partial_ ? examples_ : examples_ / batch_ * batch_;
}

void BatchLoader::start_epoch(int64_t epoch, int64_t first) {
  if (first < 0 || first > batches_per_epoch())
    fail("cannot start an epoch of {} batches at batch {}", batches_per_epoch(), first);
  stop_worker();
  std::vector<int64_t> order(examples_);
  std::iota(order.begin(), order.end(), 0);
  if (shuffle_) {
    std::mt19937_64 rng(seed_ * 1000003 + epoch);
    for (int64_t i = examples_ - 1; i > 0; --i) std::swap(order[i], order[rng() % (i + 1)]);  // Fisher-Yates
  }
  ready_.clear();
  taken_ = first;
  failure_ = nullptr;
  started_ = true;
  worker_ = std::thread(&BatchLoader::produce, this, std::move(order), epoch, first);
}

void BatchLoader::produce(std::vector<int64_t> order, int64_t epoch, int64_t first_batch) {
  for (int64_t b = first_batch; b < batches_per_epoch(); ++b) {
    const int64_t first = b * batch_;
    Batch batch;
    try {
      const int64_t part = batch_ / shard_.count;
      batch = shard_.count > 1 ? assemble(order, epoch, first + shard_.index * part, part)
                               : assemble(order, epoch, first, std::min(batch_, examples_ - first));
    } catch (...) {  // handed to next(), which rethrows it on the training thread
      std::lock_guard<std::mutex> lock(mutex_);
      failure_ = std::current_exception();
      changed_.notify_all();
      return;
    }
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait(lock, [&] { return stopping_ || ready_.size() < kAhead; });
    if (stopping_) return;
    ready_.push_back(std::move(batch));
    changed_.notify_all();
  }
}

Batch BatchLoader::assemble(const std::vector<int64_t>& order, int64_t epoch, int64_t first,
                            int64_t count) const {
  Batch batch{Tensor({DType::f32, {count, 1, size_, size_}}), Tensor({DType::i32, {count}})};
  const int64_t pixels = data_.rows * data_.cols;
  for (int64_t i = 0; i < count; ++i) {
    const int64_t example = order[first + i];
    float* image = batch.images.f32() + i * size_ * size_;
    resize_bilinear(&data_.images[example * pixels], data_.rows, data_.cols, size_, image);
    augment_image(augment_, seed_, epoch, example, size_, image);
    batch.labels.i32()[i] = data_.labels[example];
  }
  return batch;
}

bool BatchLoader::next(Batch* batch) {
  std::unique_lock<std::mutex> lock(mutex_);
  if (!started_) fail("BatchLoader::next before start_epoch");
  if (taken_ == batches_per_epoch()) return false;
  changed_.wait(lock, [&] { return !ready_.empty() || failure_; });
  if (ready_.empty()) std::rethrow_exception(failure_);
  *batch = std::move(ready_.front());
  ready_.pop_front();
  ++taken_;
  changed_.notify_all();
  return true;
}

}  // namespace stratum
