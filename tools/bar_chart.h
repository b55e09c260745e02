// A horizontal bar chart as a standalone SVG: per row, one bar per series side by side, each bar stacked
// from segments (say forward then backward time), darkest first, with its total at its end.
#pragma once

#include <string>
#include <vector>

namespace stratum {

struct BarRow {
  std::string label;
  std::vector<std::vector<double>> bars;  // per series, its segments (>= 0)
};

struct BarChart {
  std::string title, unit;
  std::vector<std::string> series;    // one name and colour per bar of a row
  std::vector<std::string> segments;  // the segments' names, for the legend
  std::vector<BarRow> rows;
};

std::string bar_chart_svg(const BarChart& chart);

}  // namespace stratum
