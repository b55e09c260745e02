#include <fmt/format.h>
#include <gtest/gtest.h>
TEST(Smoke, Fmt) { EXPECT_EQ(fmt::format("{}", 1.5), "1.5"); }
