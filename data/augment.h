// Training-time augmentation of the resized images: a random crop with zero padding and a horizontal flip.
// Each example's draws come from (seed, epoch, example), so a batch is the same whatever the loader
// thread's timing, a resumed run sees the augmentation of an uninterrupted one, and --seed changes it.
#pragma once

#include <cstdint>

namespace stratum {

struct Augment {
  int64_t crop_padding = 0;  // a random size × size crop of the image zero-padded this much on each side
  bool flip = false;         // a left-right mirror with probability 1/2

  bool any() const { return crop_padding > 0 || flip; }
};

// Augments one size × size image in place with the draws of `example` in `epoch` of a run seeded `seed`.
void augment_image(const Augment& augment, uint64_t seed, int64_t epoch, int64_t example, int64_t size,
                   float* image);

}  // namespace stratum
