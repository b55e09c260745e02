#include "backends/random_feeds.h"

namespace stratum {

Tensor random_tensor(const TensorType& type, std::mt19937_64& rng, int32_t classes) {
  Tensor t(type);
  std::uniform_real_distribution<float> uniform(-1, 1);
  for (int64_t i = 0; i < t.size(); ++i) {
    if (type.dtype == DType::i32) {
      t.i32()[i] = static_cast<int32_t>(rng() % classes);
    } else {
      t.f32()[i] = uniform(rng);
    }
  }
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
