// The training loop: a net's book recipe on Fashion-MNIST, on a chosen plugin, with evaluation on the test
// set, metrics, curves and a checkpoint after every epoch.
#pragma once

#include <string>
#include <vector>

#include "backends/plugin.h"
#include "backends/reference/interpreter.h"
#include "train/report.h"

namespace stratum {

struct TrainOptions {
  std::string net = "lenet";
  std::string data_dir;                       // the Fashion-MNIST idx files
  std::string out;                            // the run directory
  std::string resume;                         // a run directory or checkpoint to continue from
  int64_t epochs = 0, batch = 0, resize = 0;  // 0: the recipe's
  double lr = 0;                              // 0: the recipe's
  uint64_t seed = 0;
  int64_t limit = 0;     // train and test on the first `limit` examples only (0: all)
  bool progress = true;  // the progress bar on standard error
  bool fusion = true;    // run the fusion passes (passes/fusion.h) on the step and the evaluation graphs
  std::vector<std::string> disabled_fusions;  // but these
};

struct TrainResult {
  std::vector<EpochMetrics> epochs;
  Store state;  // params and batch-norm state after the last epoch
};

// Trains, writing into options.out: metrics.csv, curves.svg, train.ir (the training step's IR) and
// checkpoint.ckpt. The last partial batch of each training epoch is dropped (each epoch's shuffle drops
// different examples); the test set is evaluated whole. Throws Error on bad options, data or checkpoints,
// and when a step computes a non-finite loss, naming the step and the first node that produced one.
TrainResult train(const TrainOptions& options, const stratum_plugin& plugin);

}  // namespace stratum
