#include "tools/progress_line.h"

#include <fmt/format.h>
#include <unistd.h>

namespace stratum {

ProgressLine::ProgressLine() : terminal_(isatty(STDERR_FILENO)), last_(std::chrono::steady_clock::now()) {}

void ProgressLine::show(const std::string& text) {
  const auto now = std::chrono::steady_clock::now();
  if (now - last_ < (terminal_ ? std::chrono::milliseconds(500) : std::chrono::seconds(10))) return;
  last_ = now;
  shown_ = true;
  fmt::print(stderr, terminal_ ? "\r\033[K{}" : "{}\n", text);
}

void ProgressLine::clear() {
  if (terminal_ && shown_) fmt::print(stderr, "\r\033[K");
  shown_ = false;
}

}  // namespace stratum
