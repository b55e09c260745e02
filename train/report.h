// What a run shows and leaves behind: the progress line, metrics.csv and curves.svg.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace stratum {

struct EpochMetrics {
  int64_t epoch = 0;  // 1-based
  double loss = 0, train_acc = 0, test_acc = 0;
  double seconds = 0;           // training time of the epoch, without evaluation
  double examples_per_sec = 0;  // training examples per second
  bool validated = false;       // val_loss and val_acc were measured, on the examples --val held out
  double val_loss = 0, val_acc = 0;
};

// "epoch,loss,train_acc,test_acc,seconds,examples_per_sec" (then ",val_loss,val_acc" when validated) and
// one line per epoch; parse_metrics reads one such line back (Error when malformed).
std::string metrics_csv(const std::vector<EpochMetrics>& epochs);
std::string metrics_line(const EpochMetrics& m);
EpochMetrics parse_metrics(const std::string& line);

// ", val loss L, val acc A" for a validated epoch's summary line, else "".
std::string val_text(const EpochMetrics& m);

// The book's figure: loss, train acc and test acc (and val acc when validated) against epochs, as a
// standalone SVG.
std::string curves_svg(const std::vector<EpochMetrics>& epochs, const std::string& title);

// For charts: the smallest of 1, 1.5, 2, 2.5, 3, 4, 5 times a power of ten that is at least v (> 0), so that
// an axis ends on a round number and its fifths are round too.
double nice_ceiling(double v);
// The start of a standalone SVG: its size, a white background and the title, centred on title_x.
std::string svg_begin(double width, double height, const std::string& title, double title_x);

// A progress bar per epoch with images/s, running loss and accuracy: redrawn in place on a terminal,
// a plain line every tenth of the epoch otherwise.
class Progress {
 public:
  Progress(int64_t epoch, int64_t epochs, int64_t batches);
  void update(int64_t batches_done, int64_t examples, double loss_sum, int64_t correct, double seconds);
  void finish(const EpochMetrics& m);

 private:
  int64_t epoch_, epochs_, batches_, last_decile_ = -1;
  bool terminal_;
};

}  // namespace stratum
