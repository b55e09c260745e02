// A net's step timed on one plugin, like `caffe time`: per layer forward and backward time, images/s,
// GFLOP/s, and memory: the plan's peak beside what was allocated; what //tools:bench prints and writes.
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
  std::string plugin;               // the plugin's name
  std::vector<std::string> layers;  // every layer of the net once, in forward order
  std::vector<LayerTime> times;     // per layer
  StepTimes step;
  int64_t peak_bytes = 0;      // plan_memory's peak for the graph that ran
  int64_t arena_bytes = -1;    // what the plugin's programs allocated for themselves; -1: it does not say
  int64_t peak_rss_bytes = 0;  // the process's peak resident set (getrusage) once this bench was done
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
// "plan peak 8.7 MiB, onednn arena 7.9 MiB, process peak RSS 301.2 MiB\n" (the arena "not reported" where
// the plugin does not say). The RSS is the process's peak so far: with several benches in one process, the
// largest of them and those before.
std::string memory_line(const NetBench& bench);

// "net,size,batch,mode,fusion,img_per_s,ms_per_step,gflop_per_img,gflop_per_s,peak_activation_bytes,
// arena_bytes,peak_rss_bytes" (arena_bytes empty where the plugin does not say).
std::string summary_csv(const std::vector<NetBench>& benches);

// Fused against unfused, a line per net: img/s, the plan's peak activation bytes and the plugin's arena
// bytes of each, and their ratios.
// `pairs` holds each net's fused bench then its unfused one.
std::string fusion_table(const std::vector<std::pair<NetBench, NetBench>>& pairs);

}  // namespace stratum
