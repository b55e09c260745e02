// Batches for training and evaluation, prepared on a background thread so that compute never waits: the
// next batch is resized and assembled while the current one trains.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "backends/tensor.h"
#include "data/augment.h"
#include "data/fashion_mnist.h"

namespace stratum {

struct Batch {
  Tensor images;  // f32[batch, 1, size, size]
  Tensor labels;  // i32[batch]
};

// Which part of every batch a loader gives: the index-th of `count` equal parts (a data-parallel rank's).
struct Shard {
  int64_t index = 0, count = 1;
};

class BatchLoader {
 public:
  // One epoch is the first `limit` examples (all when 0) in batches of `batch`, resized to size × size,
  // shuffled with (seed, epoch) when `shuffle`, each example augmented with (seed, epoch, example). A last
  // partial batch is kept when `keep_partial` (it is smaller), else dropped. Each batch given is `shard`'s
  // part of it (Error unless its count divides the batch and no partial batch is kept).
  BatchLoader(const Dataset& data, int64_t batch, int64_t size, bool shuffle, uint64_t seed, int64_t limit,
              bool keep_partial, const Augment& augment = {}, Shard shard = {});
  ~BatchLoader();
  BatchLoader(const BatchLoader&) = delete;
  BatchLoader& operator=(const BatchLoader&) = delete;

  // Starts preparing the batches of `epoch` from batch `first` on (the earlier ones were taken before a
  // run was resumed); batches of the previous epoch not yet taken are dropped.
  void start_epoch(int64_t epoch, int64_t first = 0);
  // The next batch of the epoch, waiting for it if it is not ready; false after the last. Rethrows what
  // preparing it threw; Error before any start_epoch.
  bool next(Batch* batch);
  int64_t batches_per_epoch() const;
  int64_t examples_per_epoch() const;

 private:
  void produce(std::vector<int64_t> order, int64_t epoch, int64_t first);
  void stop_worker();
  Batch assemble(const std::vector<int64_t>& order, int64_t epoch, int64_t first, int64_t count) const;

  const Dataset& data_;
  const int64_t batch_, size_, examples_;
  const bool shuffle_, keep_partial_;
  const uint64_t seed_;
  const Augment augment_;
  const Shard shard_;

  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Batch> ready_;
  int64_t taken_ = 0;
  bool started_ = false, stopping_ = false;
  std::exception_ptr failure_;  // what the worker threw
  std::thread worker_;
};

}  // namespace stratum
