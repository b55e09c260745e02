// Short runs on the reference backend with real Fashion-MNIST (Debian's dataset-fashion-mnist).
#include "train/trainer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>

#include "backends/reference/plugin.h"
#include "backends/testing.h"
#include "data/fashion_mnist.h"
#include "ir/error.h"
#include "train/files.h"
#include "train/run_state.h"
#include "train/step.h"

namespace stratum {
namespace {

using testing::error_of;
using testing::temp_path;

TrainOptions quick(const std::string& out, int64_t epochs) {
  TrainOptions options;
  options.data_dir = kFashionMnistDir;
  options.out = temp_path(out);
  options.epochs = epochs;
  options.batch = 32;
  options.limit = 512;
  options.seed = 7;
  options.progress = false;
  return options;
}

// The reference plugin with a fault at the `at`-th run of a training program (one with an f32 output arg
// of more than one element: new weights): it fails, or writes NaN into every such arg.
struct Fault {
  enum Kind { kNone, kFail, kNan } kind = kNone;
  int at = 0;
};
Fault fault;
int training_runs = 0;
std::map<stratum_program*, std::vector<std::pair<int, int64_t>>> weight_args;  // (arg, elements)

const stratum_plugin& faulty_plugin() {
  static const stratum_plugin plugin = [] {
    stratum_plugin p = reference_plugin();
    p.name = "faulty";
    p.compile = [](const stratum_subgraph* graph) {
      stratum_program* program = reference_plugin().compile(graph);
      auto& args = weight_args[program];
      for (int i = graph->n_inputs; i < graph->n_args; ++i) {
        const stratum_tensor_desc& v = graph->values[graph->args[i]];
        if (v.dtype == STRATUM_F32 && stratum_num_elements(&v) > 1)
          args.emplace_back(i, stratum_num_elements(&v));
      }
      return program;
    };
    p.run = [](stratum_program* program, void* const* args, int32_t n_args) {
      const auto& weights = weight_args.at(program);
      const bool now = !weights.empty() && ++training_runs == fault.at;
      if (now && fault.kind == Fault::kFail) return 1;
      const int status = reference_plugin().run(program, args, n_args);
      if (now && fault.kind == Fault::kNan) {
        for (const auto& [arg, n] : weights) std::fill_n(static_cast<float*>(args[arg]), n, NAN);
      }
      return status;
    };
    return p;
  }();
  return plugin;
}

// Trains with `kind` at the `at`-th training step; the error it gives.
std::string train_with_fault(const TrainOptions& options, Fault::Kind kind, int at) {
  fault = {kind, at};
  training_runs = 0;
  const std::string error = error_of([&] { train(options, faulty_plugin()); });
  fault = {};
  return error;
}

// LeNet, 2 epochs of 16 steps, without a break: what every interrupted and resumed run must reach.
const TrainResult& uninterrupted() {
  static const TrainResult result = train(quick("whole", 2), reference_plugin());
  return result;
}

TEST(Trainer, LossFallsAndTheRunIsWritten) {
  TrainOptions options = quick("falls", 3);
  options.net = "bn_lenet";  // learns within a few hundred examples, where LeNet's sigmoids still stall
  const TrainResult result = train(options, reference_plugin());
  ASSERT_EQ(result.epochs.size(), 3u);
  EXPECT_LT(result.epochs[2].loss, result.epochs[0].loss * 0.9);
  EXPECT_GT(result.epochs[2].test_acc, 0.3);
  for (const char* file : {"metrics.csv", "curves.svg", "train.ir", "checkpoint.ckpt"}) {
    EXPECT_TRUE(std::filesystem::exists(options.out + "/" + file)) << file;
  }
  EXPECT_NE(read_file(options.out + "/curves.svg").find("<polyline"), std::string::npos);
  const std::string metrics = read_file(options.out + "/metrics.csv");
  EXPECT_EQ(std::count(metrics.begin(), metrics.end(), '\n'), 4) << metrics;
}

TEST(Trainer, ResumeIsBitIdenticalToAnUninterruptedRun) {
  const TrainResult& whole = uninterrupted();
  train(quick("split", 1), reference_plugin());
  TrainOptions rest = quick("split", 2);
  rest.resumed = load_resume_checkpoint(rest.out);
  const TrainResult resumed = train(rest, reference_plugin());
  testing::expect_bit_equal(whole.state, resumed.state);
  ASSERT_EQ(resumed.epochs.size(), 2u);
  EXPECT_EQ(resumed.epochs[1].loss, whole.epochs[1].loss);
  EXPECT_EQ(resumed.epochs[1].test_acc, whole.epochs[1].test_acc);
}

// An imported model trains from its own initializers (an lr too small to move them leaves them exactly as
// they were), or with init=xavier from the book's initialisation.
TEST(Trainer, AnImportedModelStartsFromItsInitializersOrXavier) {
  TrainOptions options = quick("model", 1);
  options.net = std::filesystem::absolute("onnx/testdata/lenet_opset13/model.onnx").string();
  options.lr = 1e-30;
  options.limit = 64;
  const TrainResult own = train(options, reference_plugin());
  Store model = own.state;
  use_model_weights(find_any_net(*options.net), model);
  testing::expect_bit_equal(model, own.state);
  options.out = temp_path("model_xavier");
  options.init = "xavier";
  const TrainResult xavier = train(options, reference_plugin());
  EXPECT_GT(nmse(xavier.state.at("0.weight"), model.at("0.weight")), 0.5);
  EXPECT_NE(error_of([&] {
              TrainOptions builtin = quick("builtin_init", 1);
              builtin.init = "xavier";
              train(builtin, reference_plugin());
            }).find("--init applies to an imported --model"),
            std::string::npos);
}

TEST(Trainer, ANonFiniteLossNamesTheStepAndTheNode) {
  TrainOptions options = quick("nan", 1);
  options.lr = 1e300;  // the first update takes the weights to infinity
  try {
    train(options, reference_plugin());
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("step "), std::string::npos) << message;
    EXPECT_NE(message.find("the first node with a non-finite output is"), std::string::npos) << message;
  }
}

// A step whose gradients are NaN while its loss is finite (its last in epoch 2) stops the run before its
// weights land, and the checkpoint of epoch 1 stays.
TEST(Trainer, ANonFiniteUpdateNeverReachesACheckpoint) {
  const TrainOptions options = quick("nan_update", 2);
  const std::string error = train_with_fault(options, Fault::kNan, 32);
  EXPECT_NE(error.find("step 31: the new value of %"), std::string::npos) << error;
  EXPECT_NE(error.find("the plugin's result differs"), std::string::npos) << error;
  const Checkpoint saved = load_checkpoint(options.out + "/checkpoint.ckpt");
  EXPECT_EQ(saved.header.at("epoch"), "1");
  for (const auto& [name, tensor] : saved.tensors) {
    if (tensor.type().dtype == DType::f32) {
      EXPECT_TRUE(all_finite(tensor.f32(), tensor.size())) << name;
    }
  }
}

// A run stopped in the middle of epoch 2 resumes from its checkpoint of 4 batches into it.
TEST(Trainer, ResumesMidEpochToTheWeightsOfAnUninterruptedRun) {
  TrainOptions options = quick("mid_epoch", 2);
  options.checkpoint_every.steps = 5;
  EXPECT_NE(train_with_fault(options, Fault::kFail, 22).find("faulty: running"), std::string::npos);
  const Checkpoint saved = load_checkpoint(options.out + "/checkpoint.ckpt");
  EXPECT_EQ(saved.header.at("step"), "20");
  EXPECT_EQ(saved.header.at("epoch_batches"), "4");
  options.resumed = load_resume_checkpoint(options.out);
  const TrainResult resumed = train(options, reference_plugin());
  testing::expect_bit_equal(uninterrupted().state, resumed.state);
  ASSERT_EQ(resumed.epochs.size(), 2u);
  EXPECT_EQ(resumed.epochs[1].loss, uninterrupted().epochs[1].loss);
  EXPECT_EQ(resumed.epochs[1].train_acc, uninterrupted().epochs[1].train_acc);
}

// Momentum and Adam keep their state in the checkpoint and the learning rate is a function of the step: a run
// stopped mid-epoch and resumed reaches the weights and optimizer state of an uninterrupted one, bit for bit.
TEST(Trainer, OptimizerStateAndScheduleResumeBitExactly) {
  auto configure = [](TrainOptions options, bool adam) {
    options.optimizer = adam ? "adamw" : "sgd";
    options.lr = adam ? 0.002 : 0.05;
    options.momentum = adam ? 0.0 : 0.9;
    options.nesterov = !adam;
    options.weight_decay = 0.01;
    options.clip_norm = adam ? 0.0 : 1.0;
    options.lr_schedule = adam ? "cosine" : "step:1:0.5";
    options.warmup = 0.5;
    return options;
  };
  for (bool adam : {false, true}) {
    const std::string name = adam ? "adamw" : "momentum";
    const TrainResult whole = train(configure(quick(name + "_whole", 2), adam), reference_plugin());
    EXPECT_EQ(whole.state.count(adam ? "adam.step" : "conv1.weight.momentum"), 1u) << name;
    TrainOptions options = configure(quick(name + "_split", 2), adam);
    options.checkpoint_every.steps = 5;
    EXPECT_NE(train_with_fault(options, Fault::kFail, 22).find("faulty: running"), std::string::npos);
    options.resumed = load_resume_checkpoint(options.out);
    testing::expect_bit_equal(whole.state, train(options, reference_plugin()).state);
  }
}

// bf16 mixed precision learns as f32 does, says so in its checkpoint and its step, and resumes bit-exactly.
TEST(Trainer, Bf16TrainsAndResumesBitExactly) {
  auto bf16 = [](TrainOptions options) {
    options.net = "bn_lenet";
    options.precision = "bf16";
    return options;
  };
  const TrainResult whole = train(bf16(quick("bf16_whole", 3)), reference_plugin());
  EXPECT_LT(whole.epochs[2].loss, whole.epochs[0].loss * 0.9);
  EXPECT_GT(whole.epochs[2].test_acc, 0.3);
  EXPECT_EQ(whole.state.at("conv1.weight").type().dtype, DType::f32);  // the master weights
  const std::string out = temp_path("bf16_whole");
  EXPECT_EQ(load_checkpoint(out + "/checkpoint.ckpt").header.at("precision"), "bf16");
  EXPECT_NE(read_file(out + "/train.ir").find("cast(%conv1.weight) {dtype=\"bf16\"} : bf16[6,1,5,5]"),
            std::string::npos);
  TrainOptions options = bf16(quick("bf16_split", 3));
  options.checkpoint_every.steps = 5;
  EXPECT_NE(train_with_fault(options, Fault::kFail, 22).find("faulty: running"), std::string::npos);
  options.resumed = load_resume_checkpoint(options.out);
  options.precision.reset();  // the run's own
  testing::expect_bit_equal(whole.state, train(options, reference_plugin()).state);

  TrainOptions half = quick("f16", 1);
  half.precision = "f16";
  EXPECT_NE(
      error_of([&] { train(half, reference_plugin()); }).find("--precision must be f32 or bf16, not 'f16'"),
      std::string::npos);
}

TEST(Trainer, ADamagedCheckpointResumesFromTheOneBefore) {
  TrainOptions options = quick("damaged", 2);
  options.checkpoint_every.steps = 8;
  EXPECT_NE(train_with_fault(options, Fault::kFail, 26).find("faulty: running"), std::string::npos);
  const std::string path = options.out + "/checkpoint.ckpt";
  EXPECT_EQ(load_checkpoint(previous_checkpoint_path(path)).header.at("step"), "16");
  std::string bytes = read_file(path);
  bytes[bytes.size() / 2] ^= 1;
  write_file_atomically(path, bytes);
  options.resumed = load_resume_checkpoint(options.out);
  testing::expect_bit_equal(uninterrupted().state, train(options, reference_plugin()).state);
}

TEST(Trainer, ResumingARunDirectoryTakesItsSettings) {
  TrainOptions first = quick("settings", 1);
  first.net = "bn_lenet";
  train(first, reference_plugin());
  TrainOptions options;
  options.data_dir = kFashionMnistDir;
  options.out = first.out;
  options.resumed = load_resume_checkpoint(first.out);
  options.epochs = 2;
  options.progress = false;
  const TrainResult resumed = train(options, reference_plugin());
  EXPECT_EQ(resumed.epochs.size(), 2u);
  EXPECT_EQ(load_checkpoint(first.out + "/checkpoint.ckpt").header.at("net"), "bn_lenet");

  options.batch = 64;
  EXPECT_NE(error_of([&] {
              train(options, reference_plugin());
            }).find("the run being resumed has batch=32, not 64 as given"),
            std::string::npos);
  options.batch.reset();
  options.net = "lenet";
  EXPECT_NE(error_of([&] {
              train(options, reference_plugin());
            }).find("the run being resumed has net=bn_lenet, not lenet"),
            std::string::npos);
}

TEST(Trainer, AResumeBeforeTheFirstCheckpointSaysSo) {
  TrainOptions options = quick("no_checkpoint", 1);
  std::filesystem::create_directories(options.out);
  EXPECT_NE(error_of([&] { load_resume_checkpoint(options.out); }).find("no checkpoint yet: "),
            std::string::npos);
}

TEST(Trainer, SettingsOutOfRangeAreErrorsNamingTheFlag) {
  for (int64_t batch : {0, -5}) {
    TrainOptions options = quick("range", 1);
    options.batch = batch;
    EXPECT_NE(error_of([&] { train(options, reference_plugin()); }).find("--batch must be between 1 and"),
              std::string::npos)
        << batch;
  }
  for (double lr : {-1.0, 0.0, double(NAN)}) {
    TrainOptions options = quick("range", 1);
    options.lr = lr;
    EXPECT_NE(error_of([&] { train(options, reference_plugin()); }).find("--lr must be a positive number"),
              std::string::npos)
        << lr;
  }
  TrainOptions options = quick("range", 1);
  options.epochs = 0;
  EXPECT_NE(error_of([&] { train(options, reference_plugin()); }).find("--epochs must be between 1 and"),
            std::string::npos);
  auto optimizer_error = [](auto TrainOptions::*field, auto value) {
    TrainOptions options = quick("range", 1);
    options.*field = value;
    return error_of([&] { train(options, reference_plugin()); });
  };
  EXPECT_EQ(optimizer_error(&TrainOptions::momentum, 1.5), "--momentum must be in [0,1), got 1.5");
  EXPECT_EQ(optimizer_error(&TrainOptions::weight_decay, -1.0), "--weight-decay must be in [0,1], got -1");
  EXPECT_EQ(optimizer_error(&TrainOptions::optimizer, std::string("lbfgs")),
            "--optimizer must be sgd, sgdw, adam or adamw, got 'lbfgs'");
  EXPECT_EQ(optimizer_error(&TrainOptions::clip_norm, -2.0),
            "--clip-norm must be 0 (none) or positive, got -2");
  EXPECT_NE(optimizer_error(&TrainOptions::lr_schedule, std::string("linear")).find("--lr-schedule must be"),
            std::string::npos);
  EXPECT_EQ(optimizer_error(&TrainOptions::warmup, 1.0),
            "--warmup must be at least 0 and under --epochs (1), got 1");
  auto error_with = [](std::optional<int64_t> TrainOptions::*field, int64_t value) {
    TrainOptions options = quick("range", 1);
    options.*field = value;
    return error_of([&] { train(options, reference_plugin()); });
  };
  for (int64_t padding : {-1, 15}) {
    EXPECT_NE(error_with(&TrainOptions::crop_padding, padding)
                  .find("--crop-padding must be between 0 and 14, got " + std::to_string(padding)),
              std::string::npos);
  }
  for (int64_t val : {-1, 481}) {  // 512 examples, at least a batch of 32 to train on
    EXPECT_NE(error_with(&TrainOptions::val, val)
                  .find("--val must be between 0 and 480, got " + std::to_string(val)),
              std::string::npos);
  }
}

// --val holds the last of the first --limit examples out of training, and evaluates them after each epoch.
TEST(Trainer, AValidationSplitIsHeldOutAndEvaluated) {
  RunSettings run;
  run.limit = 512;
  run.val = 64;
  run.recipe.batch = 32;
  const Dataset data = load_fashion_mnist(kFashionMnistDir, true);
  const auto [train_set, val_set] = split_validation(data, run);
  EXPECT_EQ(train_set.images, slice(data, 0, 448).images);
  EXPECT_EQ(val_set.images, slice(data, 448, 512).images);

  TrainOptions options = quick("val", 1);
  options.val = 64;
  options.crop_padding = 2;
  options.flip = true;
  const TrainResult result = train(options, reference_plugin());
  ASSERT_TRUE(result.epochs[0].validated);
  EXPECT_GT(result.epochs[0].val_loss, 0);
  EXPECT_GE(result.epochs[0].val_acc, 0);
  EXPECT_NE(read_file(options.out + "/metrics.csv").find("examples_per_sec,val_loss,val_acc\n"),
            std::string::npos);
  EXPECT_NE(read_file(options.out + "/curves.svg").find("val acc"), std::string::npos);
  const Checkpoint saved = load_checkpoint(options.out + "/checkpoint.ckpt");
  EXPECT_EQ(saved.header.at("val"), "64");
  EXPECT_EQ(saved.header.at("crop-padding"), "2");
  EXPECT_EQ(saved.header.at("flip"), "true");
  options.resumed = saved;
  options.val = 32;
  EXPECT_NE(error_of([&] {
              train(options, reference_plugin());
            }).find("the run being resumed has val=64, not 32 as given"),
            std::string::npos);
}

TEST(Report, MetricsLinesReadBackWithOrWithoutValidation) {
  EpochMetrics m{3, 0.5, 0.75, 0.7, 2.5, 100.0};
  EXPECT_EQ(metrics_line(m), "3,0.500000,0.750000,0.700000,2.500,100.0");
  EXPECT_FALSE(parse_metrics(metrics_line(m)).validated);
  m.validated = true;
  m.val_loss = 0.25;
  m.val_acc = 0.875;
  const EpochMetrics back = parse_metrics(metrics_line(m));
  EXPECT_TRUE(back.validated);
  EXPECT_EQ(back.val_loss, 0.25);
  EXPECT_EQ(back.val_acc, 0.875);
  for (const char* bad :
       {"3,0.5,0.75,0.7,2.5,100x", "3,0.5,0.75,0.7,2.5,100,0.25", "3,0.5,0.75,0.7,2.5,100,1,2,3"})
    EXPECT_THROW(parse_metrics(bad), Error) << bad;
}

TEST(Trainer, CheckpointEveryTakesADurationOrSteps) {
  EXPECT_EQ(parse_checkpoint_every("90s").seconds, 90);
  EXPECT_EQ(parse_checkpoint_every("10m").seconds, 600);
  EXPECT_EQ(parse_checkpoint_every("1h").seconds, 3600);
  EXPECT_EQ(parse_checkpoint_every("500").steps, 500);
  for (const char* bad : {"", "0", "-3", "1.5", "10x", "m", "0s"})
    EXPECT_NE(error_of([&] { parse_checkpoint_every(bad); }).find("--checkpoint-every takes"),
              std::string::npos)
        << bad;
}

TEST(Trainer, TheSeedChangesTheDropoutKeys) {
  EXPECT_EQ(dropout_key(0, 5), 5);
  EXPECT_NE(dropout_key(1, 5), dropout_key(2, 5));
  EXPECT_NE(dropout_key(1, 5), dropout_key(1, 6));
}

}  // namespace
}  // namespace stratum
