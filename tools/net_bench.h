// A net's step timed on one plugin, like `caffe time`: per layer forward and backward time, images/s,
// GFLOP/s and the peak of the activations' memory; what //tools:bench prints and writes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "backends/plugin.h"
#include "tools/layer_times.h"
#include "tools/net_step.h"

namespace stratum {

struct NetBench {
  StepSpec spec;
  std::vector<std::string> layers;  // every layer of the net once, in forward order
  std::vector<LayerTime> times;     // per layer
  StepTimes step;
  int64_t peak_bytes = 0;      // plan_memory's peak for the graph that ran
  double flops_per_image = 0;  // forward_flops_per_image, three times that for a training step
};

NetBench bench_net(const StepSpec& spec, const stratum_plugin& plugin, const TimingOptions& timing,
                   ProgressLine& progress);

double images_per_s(const NetBench& bench);

// Per layer: forward and backward milliseconds, their sum and its share of all layers'; then the total and
// the step's wall clock time.
std::string layer_table(const NetBench& bench);
// ../shared/bench/torch_anchor.py's line, "lenet 28 256 train 27364.1 img/s 9.4 ms/step 0.003 GFLOP/img
// 85.1 GFLOP/s", so that the two can be read side by side.
std::string summary_line(const NetBench& bench);

// "net,fusion,layer,forward_ms,backward_ms" and a line per layer of each bench.
std::string layers_csv(const std::vector<NetBench>& benches);
// "net,size,batch,mode,fusion,img_per_s,ms_per_step,gflop_per_img,gflop_per_s,peak_activation_bytes".
std::string summary_csv(const std::vector<NetBench>& benches);

// Fused against unfused, a line per net: img/s and peak activation bytes of each, and their ratios.
// `pairs` holds each net's fused bench then its unfused one.
std::string fusion_table(const std::vector<std::pair<NetBench, NetBench>>& pairs);

}  // namespace stratum
