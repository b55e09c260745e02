// The dropout mask every backend draws: a counter-based hash of (seed, key, element index), so that masks
// agree across backends and the backward pass recomputes the forward's mask instead of storing it.
// constexpr so that device code can call it too (CUDA's --expt-relaxed-constexpr).
#pragma once

#include <cstdint>

namespace stratum {

// splitmix64's finaliser: a bijection of 64-bit words that mixes every input bit into every output bit.
constexpr uint64_t splitmix64(uint64_t z) {
  z += 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// Whether element `index` survives: u in [0,1) from the top 24 bits of the hash, kept iff u >= p.
constexpr bool dropout_keep(int64_t seed, int32_t key, int64_t index, double p) {
  uint64_t h = splitmix64(static_cast<uint64_t>(seed));
  h = splitmix64(h ^ static_cast<uint32_t>(key));
  h = splitmix64(h ^ static_cast<uint64_t>(index));
  const double u = static_cast<double>(h >> 40) * (1.0 / (1 << 24));
  return u >= p;
}

}  // namespace stratum
