#include "train/report.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "ir/error.h"

namespace stratum {

std::string metrics_line(const EpochMetrics& m) {
  return fmt::format("{},{:.6f},{:.6f},{:.6f},{:.3f},{:.1f}", m.epoch, m.loss, m.train_acc, m.test_acc,
                     m.seconds, m.examples_per_sec) +
         (m.validated ? fmt::format(",{:.6f},{:.6f}", m.val_loss, m.val_acc) : "");
}

std::string metrics_csv(const std::vector<EpochMetrics>& epochs) {
  const bool validated = !epochs.empty() && epochs.front().validated;
  std::string text = "epoch,loss,train_acc,test_acc,seconds,examples_per_sec";
  text += validated ? ",val_loss,val_acc\n" : "\n";
  for (const EpochMetrics& m : epochs) text += metrics_line(m) + "\n";
  return text;
}

EpochMetrics parse_metrics(const std::string& line) {
  EpochMetrics m;
  int used = 0;
  const bool read = std::sscanf(line.c_str(), "%ld,%lf,%lf,%lf,%lf,%lf%n", &m.epoch, &m.loss, &m.train_acc,
                                &m.test_acc, &m.seconds, &m.examples_per_sec, &used) == 6;
  const char* rest = line.c_str() + used;
  m.validated = read && *rest != '\0';
  char extra;
  if (!read || (m.validated && std::sscanf(rest, ",%lf,%lf%c", &m.val_loss, &m.val_acc, &extra) != 2))
    fail("malformed metrics line '{}'", line);
  return m;
}

namespace {

constexpr double kWidth = 480, kHeight = 320, kLeft = 50, kRight = 130, kTop = 30, kBottom = 40;

struct Series {
  const char* name;
  const char* color;
  const char* dash;
  double EpochMetrics::*field;
};

}  // namespace

double nice_ceiling(double v) {
  const double scale = std::pow(10.0, std::floor(std::log10(v)));
  for (double step : {1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0}) {
    if (step * scale >= v) return step * scale;
  }
  return 10 * scale;
}

std::string svg_begin(double width, double height, const std::string& title, double title_x) {
  return fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" font-family=\"sans-serif\" "
      "font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
      "<text x=\"{}\" y=\"18\" text-anchor=\"middle\" font-size=\"14\">{}</text>\n",
      width, height, title_x, title);
}

std::string curves_svg(const std::vector<EpochMetrics>& epochs, const std::string& title) {
  std::vector<Series> series = {{"train loss", "#1f77b4", "", &EpochMetrics::loss},
                                {"train acc", "#9467bd", "6,3", &EpochMetrics::train_acc},
                                {"test acc", "#2ca02c", "2,3", &EpochMetrics::test_acc}};
  if (!epochs.empty() && epochs.front().validated)
    series.push_back({"val acc", "#d62728", "8,3,2,3", &EpochMetrics::val_acc});
  double top = 1.0;
  for (const EpochMetrics& m : epochs) top = std::max(top, m.loss);
  top = nice_ceiling(top);
  const double last = std::max<double>(2, epochs.empty() ? 2 : epochs.back().epoch);
  const double plot_w = kWidth - kLeft - kRight, plot_h = kHeight - kTop - kBottom;
  auto x_of = [&](double epoch) { return kLeft + (epoch - 1) / (last - 1) * plot_w; };
  auto y_of = [&](double v) { return kTop + (1 - v / top) * plot_h; };

  std::string svg = svg_begin(kWidth, kHeight, title, kLeft + plot_w / 2);
  svg += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#444\"/>\n",
                     kLeft, kTop, plot_w, plot_h);
  for (int i = 0; i <= 5; ++i) {  // y grid and labels, five intervals of a round size
    const double v = top * i / 5, y = y_of(v);
    svg += fmt::format("<line x1=\"{}\" y1=\"{:.1f}\" x2=\"{}\" y2=\"{:.1f}\" stroke=\"#ddd\"/>\n", kLeft, y,
                       kLeft + plot_w, y);
    svg +=
        fmt::format("<text x=\"{}\" y=\"{:.1f}\" text-anchor=\"end\">{:.2f}</text>\n", kLeft - 5, y + 4, v);
  }
  for (int64_t e = 1; e <= static_cast<int64_t>(last); ++e) {  // x ticks at each epoch
    svg += fmt::format("<text x=\"{:.1f}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", x_of(e),
                       kTop + plot_h + 15, e);
  }
  svg += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">epoch</text>\n", kLeft + plot_w / 2,
                     kHeight - 5);
  for (size_t s = 0; s < series.size(); ++s) {
    std::string points;
    for (const EpochMetrics& m : epochs)
      points += fmt::format("{:.1f},{:.1f} ", x_of(m.epoch), y_of(m.*series[s].field));
    svg += fmt::format(
        "<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\" stroke-dasharray=\"{}\"/>\n",
        points, series[s].color, series[s].dash);
    const double ly = kTop + 15 + 20 * s, lx = kLeft + plot_w + 10;
    svg += fmt::format(
        "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"2\" "
        "stroke-dasharray=\"{}\"/>\n<text x=\"{}\" y=\"{}\">{}</text>\n",
        lx, ly, lx + 25, ly, series[s].color, series[s].dash, lx + 30, ly + 4, series[s].name);
  }
  return svg + "</svg>\n";
}

Progress::Progress(int64_t epoch, int64_t epochs, int64_t batches)
    : epoch_(epoch), epochs_(epochs), batches_(batches), terminal_(isatty(STDERR_FILENO)) {}

void Progress::update(int64_t done, int64_t examples, double loss_sum, int64_t correct, double seconds) {
  const int64_t decile = done * 10 / batches_;
  if (!terminal_ && decile == last_decile_) return;
  last_decile_ = decile;
  constexpr int kBar = 30;
  const int filled = static_cast<int>(done * kBar / batches_);
  const std::string bar = std::string(filled, '=') + (filled < kBar ? ">" : "") +
                          std::string(kBar - std::min(kBar, filled + 1), ' ');
  const std::string line =
      fmt::format("epoch {}/{} [{}] {}/{}  {:.0f} img/s  loss {:.3f}  acc {:.3f}", epoch_, epochs_, bar, done,
                  batches_, examples / std::max(seconds, 1e-9), loss_sum / std::max<int64_t>(examples, 1),
                  double(correct) / std::max<int64_t>(examples, 1));
  fmt::print(stderr, terminal_ ? "\r{}" : "{}\n", line);
}

void Progress::finish(const EpochMetrics& m) {
  fmt::print(
      stderr,
      "{}epoch {}/{}: loss {:.3f}, train acc {:.3f}, test acc {:.3f}{}, {:.1f} examples/sec, {:.1f} s\n",
      terminal_ ? "\r\033[K" : "", m.epoch, epochs_, m.loss, m.train_acc, m.test_acc, val_text(m),
      m.examples_per_sec, m.seconds);
}

std::string val_text(const EpochMetrics& m) {
  return m.validated ? fmt::format(", val loss {:.3f}, val acc {:.3f}", m.val_loss, m.val_acc) : "";
}

}  // namespace stratum
