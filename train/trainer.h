// The training loop: a net's book recipe on Fashion-MNIST, on a chosen plugin, with evaluation on the test
// set, metrics, curves, and checkpoints during and after every epoch.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "backends/plugin.h"
#include "backends/reference/interpreter.h"
#include "train/checkpoint.h"
#include "train/report.h"

namespace stratum {

// When to checkpoint within an epoch (besides at its end): every `steps` steps when steps > 0, else
// whenever `seconds` have passed since the last checkpoint.
struct CheckpointEvery {
  double seconds = 600;
  int64_t steps = 0;
};
// --checkpoint-every's value: a duration ("90s", "10m", "1h") or a number of steps ("500"); Error naming
// the flag otherwise.
CheckpointEvery parse_checkpoint_every(const std::string& text);

// What to train. An unset setting is the recipe's, or when resuming the run's own: setting one that
// contradicts the run is an Error naming both (but --epochs, which may grow to train on).
struct TrainOptions {
  std::optional<std::string>
      net;               // a built-in net or an ONNX model's path (onnx/model_nets.h); default lenet
  std::string data_dir;  // the Fashion-MNIST idx files
  std::string out;       // the run directory
  std::optional<Checkpoint> resumed;  // the checkpoint to continue from (run_state.h: load_resume_checkpoint)
  std::optional<int64_t> epochs, batch, resize;
  std::optional<std::string> recipe;  // book (default) or modern (nets/nets.h: named_recipe)
  std::optional<double> lr;
  // The optimizer (ir/op_attrs.h: sgd, sgdw, adam, adamw) and its settings, and the learning-rate schedule
  // (train/schedule.h) with its warm-up in epochs.
  std::optional<std::string> optimizer, lr_schedule;
  std::optional<double> momentum, weight_decay, clip_norm, warmup;
  std::optional<bool> nesterov;
  std::optional<uint64_t> seed;  // default 0
  std::optional<int64_t> limit;  // train and test on the first `limit` examples
  std::optional<int64_t> val;    // hold the last `val` training examples out, for validation (default 0)
  std::optional<int64_t> crop_padding;  // augmentation (data/augment.h; default: the recipe's, none)
  std::optional<bool> flip;
  std::optional<std::string> init;  // an imported model's starting weights: "model" (default) or "xavier"
  std::optional<bool> fusion;       // run the fusion passes (default true)
  std::optional<std::string> precision;                      // f32 (default) or bf16 (passes/bf16.h)
  std::optional<std::vector<std::string>> disabled_fusions;  // but these
  CheckpointEvery checkpoint_every;
  bool progress = true;  // the progress bar on standard error
  // One rank of the data-parallel job the process has joined (backends/world.h): it trains on its part of
  // every batch (the global batch), the gradients averaged over the ranks; only rank 0 writes the run.
  bool data_parallel = false;
  bool sync_bn = false;  // with data_parallel: batch-norm statistics over every rank's part of the batch
};

struct TrainResult {
  std::vector<EpochMetrics> epochs;
  Store state;  // params and batch-norm state after the last epoch
};

// Trains, writing into options.out: metrics.csv, curves.svg, train.ir (the training step's IR) and
// checkpoint.ckpt (the one before it kept as checkpoint.prev.ckpt). The last partial batch of each training
// epoch is dropped (each epoch's shuffle drops different examples); the test set and the validation
// examples are evaluated whole, unaugmented.
// Throws Error on bad options, data or checkpoints, and when a step computes a non-finite value, naming the
// step and the first node that produced one: the weights of that step are never applied or saved.
TrainResult train(const TrainOptions& options, const stratum_plugin& plugin);

}  // namespace stratum
