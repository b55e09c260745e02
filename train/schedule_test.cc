// The learning rate each step is fed, at chosen steps of a 10-epoch run of 100 steps per epoch.
#include "train/schedule.h"

#include <gtest/gtest.h>

#include <cmath>

#include "ir/error.h"

namespace stratum {
namespace {

double lr_at(const std::string& text, double warmup, int64_t step) {
  LrSchedule schedule = parse_schedule(text);
  schedule.warmup_epochs = warmup;
  return scheduled_lr(schedule, 0.1, step, /*steps_per_epoch=*/100, /*epochs=*/10);
}

TEST(Schedule, ConstantStepAndCosine) {
  for (int64_t step : {0, 99, 500, 999}) EXPECT_DOUBLE_EQ(lr_at("constant", 0, step), 0.1);
  EXPECT_DOUBLE_EQ(lr_at("step:3:0.5", 0, 299), 0.1);  // the last step of epoch 3
  EXPECT_DOUBLE_EQ(lr_at("step:3:0.5", 0, 300), 0.05);
  EXPECT_DOUBLE_EQ(lr_at("step:3:0.5", 0, 999), 0.0125);  // epochs 10: decayed 3 times
  EXPECT_DOUBLE_EQ(lr_at("cosine", 0, 0), 0.1);
  EXPECT_DOUBLE_EQ(lr_at("cosine", 0, 500), 0.05);                                  // halfway: cos(π/2) = 0
  EXPECT_NEAR(lr_at("cosine", 0, 250), 0.1 * (1 + std::cos(M_PI / 4)) / 2, 1e-15);  // 0.0854
  EXPECT_NEAR(lr_at("cosine", 0, 999), 0.1 * (1 + std::cos(M_PI * 0.999)) / 2, 1e-15);
}

// A linear warm-up over the first epochs, then the schedule over what is left of the run.
TEST(Schedule, WarmUpRampsThenHandsOver) {
  EXPECT_DOUBLE_EQ(lr_at("cosine", 2, 0), 0.1 / 200);
  EXPECT_DOUBLE_EQ(lr_at("cosine", 2, 99), 0.1 * 100 / 200);
  EXPECT_DOUBLE_EQ(lr_at("cosine", 2, 199), 0.1);
  EXPECT_DOUBLE_EQ(lr_at("cosine", 2, 200), 0.1);               // cosine from here
  EXPECT_DOUBLE_EQ(lr_at("cosine", 2, 600), 0.05);              // halfway through 800 steps
  EXPECT_DOUBLE_EQ(lr_at("constant", 0.5, 24), 0.1 * 25 / 50);  // half an epoch of warm-up
  EXPECT_DOUBLE_EQ(lr_at("step:3:0.5", 1, 300), 0.05);          // epochs count from 0 still
}

TEST(Schedule, ReadsBackAndNamesTheFlag) {
  for (const char* text : {"constant", "cosine", "step:3:0.5"})
    EXPECT_EQ(schedule_text(parse_schedule(text)), text);
  for (const char* bad : {"linear", "step", "step:0:0.5", "step:3:1.5", "step:3:0.5x", "cosine "}) {
    try {
      parse_schedule(bad);
      ADD_FAILURE() << bad;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("--lr-schedule must be constant, cosine or step:EVERY:GAMMA"),
                std::string::npos)
          << e.what();
    }
  }
}

}  // namespace
}  // namespace stratum
