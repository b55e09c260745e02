#include "data/augment.h"

#include <vector>

#include "backends/plugin.h"

namespace stratum {

void augment_image(const Augment& augment, uint64_t seed, int64_t epoch, int64_t example, int64_t size,
                   float* image) {
  if (!augment.any()) return;
  constexpr uint64_t kSalt = 0x61756720;  // "aug ": draws apart from the dropout masks of the same seed
  uint64_t h = stratum_splitmix64(seed ^ kSalt);
  h = stratum_splitmix64(h ^ static_cast<uint64_t>(epoch));
  h = stratum_splitmix64(h ^ static_cast<uint64_t>(example));
  const int64_t pad = augment.crop_padding, offsets = 2 * pad + 1;
  // The crop's corner in the padded image, less the padding: a shift of the image by (dy, dx).
  const int64_t dy = static_cast<int64_t>((h & 0xffffffff) % offsets) - pad;
  const int64_t dx = static_cast<int64_t>(((h >> 32) & 0x7fffffff) % offsets) - pad;
  const bool flip = augment.flip && (h >> 63) != 0;
  const std::vector<float> source(image, image + size * size);
  for (int64_t y = 0; y < size; ++y) {
    for (int64_t x = 0; x < size; ++x) {
      const int64_t sy = y + dy, sx = (flip ? size - 1 - x : x) + dx;
      const bool inside = sy >= 0 && sy < size && sx >= 0 && sx < size;
      image[y * size + x] = inside ? source[sy * size + sx] : 0.0f;
    }
  }
}

}  // namespace stratum
