// The row maths of softmax cross-entropy, written once for every host kernel (the reference backend, the
// oneDNN plugin's loops, tools/infer): one row of logits, its first maximum and log Σ exp(logits), shifted
// by the maximum so that no exp overflows, in double so that every host computes the same bits.
#pragma once

#include <cmath>
#include <cstdint>

namespace stratum {

struct SoftmaxRow {
  SoftmaxRow(const float* row, int64_t classes) : logits(row) {
    for (int64_t k = 1; k < classes; ++k) {
      if (logits[k] > logits[argmax]) argmax = k;
    }
    const double max = logits[argmax];
    for (int64_t k = 0; k < classes; ++k) sum_exp += std::exp(logits[k] - max);
    log_sum_exp = max + std::log(sum_exp);
  }

  // softmax(logits)[k]
  double probability(int64_t k) const { return std::exp(logits[k] - log_sum_exp); }

  const float* logits;
  int64_t argmax = 0;  // the first maximum
  double sum_exp = 0;  // Σ exp(logits - max): 1 / the probability of the maximum
  double log_sum_exp = 0;
};

}  // namespace stratum
