// Learning-rate schedules: the rate each training step is fed (%lr), from the recipe's rate and schedule.
#pragma once

#include <cstdint>
#include <string>

#include "nets/nets.h"

namespace stratum {

// --lr-schedule's value: "constant", "cosine" or "step:EVERY:GAMMA" (decay by GAMMA every EVERY epochs);
// Error naming the flag otherwise. warmup_epochs is left as it is.
LrSchedule parse_schedule(const std::string& text, LrSchedule schedule = {});
// The text parse_schedule reads back.
std::string schedule_text(const LrSchedule& schedule);

// The learning rate of step `step` (from 0) of a run of `epochs` epochs of `steps_per_epoch` steps: `lr`
// ramped linearly over the warm-up (lr·(step+1)/warm-up steps), then the schedule's from there.
double scheduled_lr(const LrSchedule& schedule, double lr, int64_t step, int64_t steps_per_epoch,
                    int64_t epochs);

}  // namespace stratum
