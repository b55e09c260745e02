// The same net, weights and batch on two plugins: per layer, the time on each and how far apart their
// values are; what //tools:compare prints, writes as CSV and draws.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "backends/plugin.h"
#include "tools/layer_times.h"
#include "tools/net_step.h"

namespace stratum {

struct LayerComparison {
  std::string layer;
  LayerTime a, b;
  // The largest elementwise difference of any value the layer computes, and the normalised MSE,
  // ||b - a||² / ||a||², of its forward values together and of its gradients together (a gradient that
  // cancels to zero, a conv bias's before batch norm, has no meaningful nMSE of its own). The updated params
  // are left out: they follow from the gradients.
  double max_abs = 0;
  double forward_nmse = 0, backward_nmse = 0;
  double nmse_bound = 0;  // the largest of plugin_check's bounds for the layer's ops
};

struct Comparison {
  std::string a, b;  // the plugins' names
  StepSpec spec;
  std::vector<LayerComparison> layers;  // every layer of the net once, in forward order
  double step_ms_a = 0, step_ms_b = 0;  // wall clock
  std::set<std::string> timed_alone;    // plugins that report no node times: their nodes were timed alone
};

// Builds the step, fused where both plugins run the fused nodes; times it on each (time_step); then runs it
// once more on each, from the same weights and inputs, with every node's output made a graph output, and
// compares the outputs layer by layer. The differences are end to end: each plugin computes from its own
// earlier results, so they grow along the net.
Comparison compare_plugins(const StepSpec& spec, const stratum_plugin& a, const stratum_plugin& b,
                           const TimingOptions& timing, ProgressLine& progress);

// How many times faster b runs than a.
inline double speedup(double ms_a, double ms_b) { return ms_b > 0 ? ms_a / ms_b : 0; }

// A table for the terminal: per layer the times on a and b (forward and backward in training), the speedup
// and the differences; then the totals, the step's wall clock time and images/s on each.
std::string comparison_table(const Comparison& comparison);
// The same per layer, then a row "total" (the layers' sums) and a row "step" (the wall clock time of a
// step in the forward columns, no differences):
// layer,<a>_forward_ms,<a>_backward_ms,<b>_forward_ms,<b>_backward_ms,speedup,max_abs,forward_nmse,
// backward_nmse,nmse_bound.
std::string comparison_csv(const Comparison& comparison);
// Per layer, a bar per plugin: forward then backward milliseconds.
std::string comparison_svg(const Comparison& comparison);

}  // namespace stratum
