// One line on standard error that says what a long benchmark is doing: redrawn in place at most twice a
// second on a terminal; elsewhere (a log, a test) printed at most every ten seconds.
#pragma once

#include <chrono>
#include <string>

namespace stratum {

class ProgressLine {
 public:
  ProgressLine();
  ~ProgressLine() { clear(); }
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;

  void show(const std::string& text);
  // Erases the line from a terminal, before other output.
  void clear();

 private:
  bool terminal_;
  bool shown_ = false;
  std::chrono::steady_clock::time_point last_;
};

}  // namespace stratum
