#include "plugins/onednn/arena.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>

namespace stratum::onednn {
namespace {

bool overlap(const Arena& arena, int a, size_t a_bytes, int b, size_t b_bytes) {
  const auto x = reinterpret_cast<uintptr_t>(arena.address(a)),
             y = reinterpret_cast<uintptr_t>(arena.address(b));
  return x < y + b_bytes && y < x + a_bytes;
}

TEST(Arena, BuffersShareMemoryExactlyWhenTheirLifetimesAreDisjoint) {
  Arena arena;
  const int early = arena.add(1000), late = arena.add(1000), across = arena.add(500), never = arena.add(10);
  arena.use(early, 0);
  arena.use(early, 1);
  arena.use(late, 2);
  arena.use(late, 3);
  arena.use(across, 1);
  arena.use(across, 2);
  arena.plan();
  EXPECT_EQ(arena.address(early), arena.address(late));
  EXPECT_FALSE(overlap(arena, across, 500, early, 1000));
  EXPECT_FALSE(overlap(arena, never, 10, early, 1000));
  EXPECT_FALSE(overlap(arena, never, 10, across, 500));
  EXPECT_LE(arena.bytes(), 1024u + 512u + 64u);
  for (int id : {early, late, across, never})
    EXPECT_EQ(reinterpret_cast<uintptr_t>(arena.address(id)) % 64, 0u);
}

TEST(Arena, ABufferUsedAtOneStepStillTakesItsOwnBytesThere) {
  Arena arena;
  const int a = arena.add(64), b = arena.add(64);
  arena.use(a, 5);
  arena.use(b, 5);
  arena.plan();
  EXPECT_FALSE(overlap(arena, a, 64, b, 64));
}

TEST(Arena, AnUnreusableBufferSharesNoBytesAndMemoryStartsZeroed) {
  Arena arena;
  const int padded = arena.add(256, /*reusable=*/false), before = arena.add(256), after = arena.add(256);
  arena.use(before, 0);
  arena.use(padded, 1);
  arena.use(after, 2);
  arena.plan();
  EXPECT_EQ(arena.address(before), arena.address(after));
  EXPECT_FALSE(overlap(arena, padded, 256, before, 256));
  const auto* bytes = static_cast<const unsigned char*>(arena.address(padded));
  EXPECT_EQ(std::count(bytes, bytes + 256, 0), 256);
}

}  // namespace
}  // namespace stratum::onednn
