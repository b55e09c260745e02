// What a run is and where it stands, as its checkpoints record them: the settings it was started with, so
// that --resume=RUN_DIR alone continues it, and its position down to the batch within an epoch, so that a
// resumed run reaches exactly the weights of an uninterrupted one.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "data/fashion_mnist.h"
#include "nets/nets.h"
#include "onnx/model_nets.h"
#include "train/checkpoint.h"
#include "train/trainer.h"

namespace stratum {

struct RunSettings {
  std::string net;          // a built-in net or an ONNX model's path
  std::string init;         // an imported model's starting weights: its initializers ("model") or "xavier"
  std::string recipe_name;  // the recipe flags override: book or modern
  Recipe recipe;            // as run
  uint64_t seed = 0;
  int64_t limit = 0;  // 0: every example
  int64_t val = 0;    // the last examples (of the first `limit`) held out of training, for validation
  bool fusion = true;
  std::vector<std::string> disabled_fusions;
  DType precision = DType::f32;
};

// Sums over the batches of an epoch trained so far.
struct EpochTotals {
  int64_t batches = 0, examples = 0, correct = 0;
  double loss_sum = 0, seconds = 0;
};

struct RunPosition {
  std::vector<EpochMetrics> history;  // the completed epochs
  EpochTotals partial;                // of the epoch after them
  int64_t step = 0;                   // steps taken in all
};

// The settings of a new run (options over the recipe), or of a resumed one (its checkpoint's, with
// --epochs allowed to change). Error naming the flag and its range for a value out of range, and naming
// both values when an option contradicts the resumed run.
RunSettings resolve_settings(const TrainOptions& options);

// The examples a run trains on, the first --limit (all when 0) less the last --val, and those held out.
// Error naming --val when it leaves less than a batch to train on.
std::pair<Dataset, Dataset> split_validation(const Dataset& data, const RunSettings& run);

// The checkpoint to resume from: `resume` is a run directory (its checkpoint.ckpt, or when that is damaged
// its checkpoint.prev.ckpt, said on standard error) or a checkpoint file. Error "no checkpoint yet" for a
// run directory stopped before its first checkpoint.
Checkpoint load_resume_checkpoint(const std::string& resume);

// The header of the run's checkpoint (save_checkpoint), which run_position reads back.
std::map<std::string, std::string> run_header(const RunSettings& settings, const RunPosition& position,
                                              const std::string& backend);
RunPosition run_position(const Checkpoint& checkpoint);

}  // namespace stratum
