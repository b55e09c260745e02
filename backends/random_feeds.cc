#include "backends/random_feeds.h"

#include <algorithm>
#include <cmath>

namespace stratum {

Tensor random_tensor(const TensorType& type, std::mt19937_64& rng, int32_t classes, Fill fill) {
  if (type.dtype == DType::bf16) {
    Tensor t = random_tensor({DType::f32, type.shape}, rng, classes, fill);
    // Distinct values a tenth apart would tie in bf16 past 16; ten times them round to distinct integers.
    if (fill == Fill::kDistinct) std::for_each(t.f32(), t.f32() + t.size(), [](float& x) { x *= 10; });
    return converted(t, DType::bf16);
  }
  Tensor t(type);
  std::uniform_real_distribution<float> uniform(-1, 1);
  for (int64_t i = 0; i < t.size(); ++i) {
    if (type.dtype == DType::i32) {
      t.i32()[i] = static_cast<int32_t>(rng() % classes);
      continue;
    }
    const float u = uniform(rng);
    float& x = t.f32()[i];
    switch (fill) {
      case Fill::kUniform:
        x = u;
        break;
      case Fill::kAwayFromZero:
        x = std::copysign(0.2f + 0.8f * std::abs(u), u);
        break;
      case Fill::kDistinct:
        x = 0.1f * float(i - t.size() / 2);
        break;  // shuffled below
      case Fill::kPositive:
        x = 1.0f + 0.5f * u;
        break;
      case Fill::kLarge:
        x = 1000.0f + u;
        break;
    }
  }
  if (fill == Fill::kDistinct && type.dtype == DType::f32) std::shuffle(t.f32(), t.f32() + t.size(), rng);
  return t;
}

std::map<std::string, Tensor> random_feeds(const Graph& graph, uint64_t seed, int32_t classes) {
  std::mt19937_64 rng(seed);
  std::map<std::string, Tensor> feeds;
  for (const Value* input : graph.leaves_of(ValueKind::kInput))
    feeds[input->name()] = random_tensor(input->type(), rng, classes);
  return feeds;
}

}  // namespace stratum
