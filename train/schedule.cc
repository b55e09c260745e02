#include "train/schedule.h"

#include <fmt/format.h>

#include <cmath>

#include "ir/error.h"

namespace stratum {

LrSchedule parse_schedule(const std::string& text, LrSchedule schedule) {
  if (text == "constant" || text == "cosine") {
    schedule.kind = text;
    return schedule;
  }
  int64_t every = 0;
  double gamma = 0;
  char end = 0;
  if (std::sscanf(text.c_str(), "step:%ld:%lf%c", &every, &gamma, &end) != 2 || every < 1 || !(gamma > 0) ||
      !(gamma <= 1))
    fail(
        "--lr-schedule must be constant, cosine or step:EVERY:GAMMA (EVERY ≥ 1 epochs, 0 < GAMMA ≤ 1), got "
        "'{}'",
        text);
  schedule.kind = "step";
  schedule.every_epochs = every;
  schedule.gamma = gamma;
  return schedule;
}

std::string schedule_text(const LrSchedule& schedule) {
  if (schedule.kind != "step") return schedule.kind;
  return fmt::format("step:{}:{}", schedule.every_epochs, schedule.gamma);
}

double scheduled_lr(const LrSchedule& schedule, double lr, int64_t step, int64_t steps_per_epoch,
                    int64_t epochs) {
  const double warmup = std::round(schedule.warmup_epochs * steps_per_epoch);
  if (step < warmup) return lr * (step + 1) / warmup;
  if (schedule.kind == "step")
    return lr * std::pow(schedule.gamma, step / steps_per_epoch / schedule.every_epochs);
  if (schedule.kind == "cosine") {
    const double total = double(epochs) * steps_per_epoch - warmup;
    return lr * 0.5 * (1 + std::cos(M_PI * (step - warmup) / total));
  }
  return lr;
}

}  // namespace stratum
