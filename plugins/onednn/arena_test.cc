// The oneDNN plugin's Arena: one zeroed, aligned host allocation laid out by backends/arena_plan.h (whose
// placement backends/arena_plan_test.cc tests).
#include "plugins/onednn/arena.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>

namespace stratum::onednn {
namespace {

TEST(Arena, BuffersAreAlignedAtTheirPlannedPlacesInZeroedMemory) {
  Arena arena;
  const int early = arena.add(1000), late = arena.add(1000), across = arena.add(500);
  arena.use(early, 0);
  arena.use(late, 1);
  arena.use(across, 0);
  arena.use(across, 1);
  arena.plan();
  EXPECT_EQ(arena.address(early), arena.address(late));
  EXPECT_EQ(arena.bytes(), 1024u + 512u);
  for (int id : {early, late, across}) {
    EXPECT_EQ(reinterpret_cast<uintptr_t>(arena.address(id)) % 64, 0u);
    EXPECT_LE(static_cast<char*>(arena.address(id)) + 500, static_cast<char*>(arena.address(early)) + 1536);
  }
  const auto* bytes = static_cast<const unsigned char*>(arena.address(early));
  EXPECT_EQ(std::count(bytes, bytes + arena.bytes(), 0), static_cast<long>(arena.bytes()));
}

TEST(Arena, AnEmptyArenaStillAllocatesOneAlignment) {
  Arena arena;
  arena.plan();
  EXPECT_EQ(arena.bytes(), 64u);
}

}  // namespace
}  // namespace stratum::onednn
