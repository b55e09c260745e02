#include "tools/bar_chart.h"

#include <fmt/format.h>

#include <algorithm>
#include <numeric>

#include "train/report.h"

namespace stratum {

namespace {

constexpr double kCharWidth = 7, kPlotWidth = 520, kRight = 70, kTop = 50, kBar = 9, kRowGap = 8;
const char* const kColors[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd"};

double total(const std::vector<double>& segments) {
  return std::accumulate(segments.begin(), segments.end(), 0.0);
}

double opacity(size_t segment) { return 1.0 / (1 + segment); }

}  // namespace

std::string bar_chart_svg(const BarChart& chart) {
  double largest = 0;
  for (const BarRow& row : chart.rows) {
    for (const auto& bar : row.bars) largest = std::max(largest, total(bar));
  }
  size_t longest = 0;
  for (const BarRow& row : chart.rows) longest = std::max(longest, row.label.size());
  const double label_width = std::max(100.0, kCharWidth * longest + 12);  // room for the row labels
  const double top = largest > 0 ? nice_ceiling(largest) : 1;
  const double row_height = kBar * chart.series.size() + kRowGap;
  const double plot_height = row_height * chart.rows.size();
  const double width = label_width + kPlotWidth + kRight, height = kTop + plot_height + 40;
  auto x_of = [&](double v) { return label_width + v / top * kPlotWidth; };

  std::string svg = svg_begin(width, height, chart.title, width / 2);
  for (size_t s = 0; s < chart.series.size(); ++s) {  // legend: series, then segments by shade
    svg += fmt::format(
        "<rect x=\"{}\" y=\"26\" width=\"12\" height=\"10\" fill=\"{}\"/><text x=\"{}\" "
        "y=\"35\">{}</text>\n",
        label_width + 140 * s, kColors[s % 4], label_width + 140 * s + 16, chart.series[s]);
  }
  for (size_t g = 0; g < chart.segments.size(); ++g) {
    svg += fmt::format(
        "<rect x=\"{}\" y=\"26\" width=\"12\" height=\"10\" fill=\"#444\" fill-opacity=\"{:.2f}\"/>"
        "<text x=\"{}\" y=\"35\">{}</text>\n",
        label_width + 140 * (chart.series.size() + g), opacity(g),
        label_width + 140 * (chart.series.size() + g) + 16, chart.segments[g]);
  }
  for (int i = 0; i <= 5; ++i) {  // x grid and labels, five intervals of a round size
    const double x = x_of(top * i / 5);
    svg += fmt::format("<line x1=\"{:.1f}\" y1=\"{}\" x2=\"{:.1f}\" y2=\"{}\" stroke=\"#ddd\"/>\n", x, kTop,
                       x, kTop + plot_height);
    svg += fmt::format("<text x=\"{:.1f}\" y=\"{}\" text-anchor=\"middle\">{:g}</text>\n", x,
                       kTop + plot_height + 15, top * i / 5);
  }
  svg += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", x_of(top / 2), height - 8,
                     chart.unit);
  for (size_t r = 0; r < chart.rows.size(); ++r) {
    const BarRow& row = chart.rows[r];
    const double y0 = kTop + r * row_height + kRowGap / 2;
    svg += fmt::format("<text x=\"{}\" y=\"{:.1f}\" text-anchor=\"end\">{}</text>\n", label_width - 6,
                       y0 + kBar * row.bars.size() / 2 + 4, row.label);
    for (size_t s = 0; s < row.bars.size(); ++s) {
      const double y = y0 + s * kBar;
      double v = 0;
      for (size_t g = 0; g < row.bars[s].size(); ++g) {
        svg += fmt::format(
            "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{}\" fill=\"{}\" "
            "fill-opacity=\"{:.2f}\"/>\n",
            x_of(v), y, x_of(v + row.bars[s][g]) - x_of(v), kBar - 1, kColors[s % 4], opacity(g));
        v += row.bars[s][g];
      }
      svg += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"9\">{:.3g}</text>\n", x_of(v) + 3,
                         y + kBar - 1, v);
    }
  }
  return svg + "</svg>\n";
}

}  // namespace stratum
