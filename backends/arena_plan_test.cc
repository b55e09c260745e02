// place_buffers, the one placement of the memory plan and the plugins' arenas, and ArenaPlan over it.
#include "backends/arena_plan.h"

#include <gtest/gtest.h>

#include <random>

namespace stratum {
namespace {

bool live_together(const BlockBuffer& a, const BlockBuffer& b) {
  return a.first <= b.last && b.first <= a.last;
}
bool share_bytes(const BlockBuffer& a, const BlockBuffer& b) {
  return a.offset < b.offset + b.bytes && b.offset < a.offset + a.bytes;
}

TEST(PlaceBuffers, BuffersShareBytesExactlyWhenTheirLifetimesAreDisjoint) {
  std::vector<BlockBuffer> buffers = {{1000, 0, 1}, {1000, 2, 3}, {500, 1, 2}};
  const size_t block = place_buffers(buffers, 64);
  EXPECT_EQ(buffers[0].offset, buffers[1].offset);  // the same bytes, at different times
  EXPECT_FALSE(share_bytes(buffers[2], buffers[0]));
  EXPECT_FALSE(share_bytes(buffers[2], buffers[1]));
  EXPECT_EQ(block, 1024u + 512u);
}

TEST(PlaceBuffers, BuffersTouchedAtOneStepDoNotShare) {
  std::vector<BlockBuffer> buffers = {{64, 5, 5}, {64, 5, 5}};
  EXPECT_EQ(place_buffers(buffers, 64), 128u);
  EXPECT_FALSE(share_bytes(buffers[0], buffers[1]));
}

TEST(PlaceBuffers, LargestFirstAtTheLowestFreeAlignedOffset) {
  // The 300-byte buffer goes first, at 0; the 100-byte one after it, at 320; the third, live with neither,
  // at 0 again. The block ends at the furthest buffer's end, rounded up.
  std::vector<BlockBuffer> buffers = {{100, 0, 1}, {300, 1, 2}, {200, 3, 3}};
  EXPECT_EQ(place_buffers(buffers, 64), 448u);
  EXPECT_EQ(buffers[1].offset, 0u);
  EXPECT_EQ(buffers[0].offset, 320u);
  EXPECT_EQ(buffers[2].offset, 0u);
  std::vector<BlockBuffer> none;
  EXPECT_EQ(place_buffers(none, 64), 0u);
}

// Seeded random lifetimes and sizes: no two buffers live together share bytes, every offset is aligned,
// every buffer fits in the block, and disjoint lifetimes are reused.
TEST(PlaceBuffers, RandomBuffersAreAlignedApartWhileLiveAndReused) {
  std::mt19937 rng(11);
  for (size_t alignment : {64u, 256u}) {
    for (int trial = 0; trial < 200; ++trial) {
      std::vector<BlockBuffer> buffers(1 + rng() % 30);
      size_t total = 0;
      for (BlockBuffer& b : buffers) {
        b.bytes = rng() % 5000;
        b.first = static_cast<int>(rng() % 40);
        b.last = b.first + static_cast<int>(rng() % 6);
        total += (b.bytes + alignment - 1) / alignment * alignment;
      }
      const size_t block = place_buffers(buffers, alignment);
      EXPECT_EQ(block % alignment, 0u);
      EXPECT_LE(block, total);
      for (size_t i = 0; i < buffers.size(); ++i) {
        EXPECT_EQ(buffers[i].offset % alignment, 0u);
        EXPECT_LE(buffers[i].offset + buffers[i].bytes, block);
        for (size_t j = i + 1; j < buffers.size(); ++j) {
          if (live_together(buffers[i], buffers[j]) && buffers[i].bytes > 0 && buffers[j].bytes > 0) {
            EXPECT_FALSE(share_bytes(buffers[i], buffers[j])) << "trial " << trial << ": " << i << ", " << j;
          }
        }
      }
    }
  }
  std::vector<BlockBuffer> chain;  // each buffer dies before the next: all at 0
  for (int i = 0; i < 10; ++i) chain.push_back({1000, i, i});
  EXPECT_EQ(place_buffers(chain, 64), 1024u);
}

TEST(ArenaPlan, AnUnreusableOrUntouchedBufferSharesNoBytes) {
  ArenaPlan plan(64);
  const int padded = plan.add(256, /*reusable=*/false), before = plan.add(256), after = plan.add(256),
            never = plan.add(10);
  plan.use(before, 0);
  plan.use(padded, 1);
  plan.use(after, 2);
  plan.place();
  EXPECT_EQ(plan.offset(before), plan.offset(after));
  for (int other : {padded, never}) {
    for (int id : {before, after}) EXPECT_NE(plan.offset(id), plan.offset(other));
  }
  EXPECT_NE(plan.offset(padded), plan.offset(never));
  EXPECT_EQ(plan.bytes(), 2u * 256 + 64);
}

}  // namespace
}  // namespace stratum
