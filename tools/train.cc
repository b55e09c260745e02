// train: a classic CNN on Fashion-MNIST with the book's recipe.
//   bazel run //tools:train                      LeNet, 10 epochs, on the oneDNN plugin
//   bazel run //tools:train -- --net=bn_lenet --epochs=2 --limit=10000
//   bazel run //tools:train -- --resume=runs/RUN_DIR      continues a run with its own settings
#include <fmt/format.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <thread>

#include "backends/loader.h"
#include "backends/tensor.h"
#include "backends/world.h"
#include "data/fashion_mnist.h"
#include "ir/error.h"
#include "nets/nets.h"
#include "passes/pass.h"
#include "tools/flags.h"
#include "tools/net_flags.h"
#include "train/run_state.h"
#include "train/schedule.h"
#include "train/trainer.h"

namespace stratum {
namespace {

std::string default_run_dir(const std::string& net, const std::string& backend) {
  const std::time_t now = std::time(nullptr);
  char stamp[32];
  std::strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", std::localtime(&now));
  return user_path(fmt::format("runs/{}-{}-{}", net, backend, stamp));
}

// The plugin a run continues on unless --backend says otherwise: the resumed run's, else onednn.
std::string resumed_backend(const std::optional<Checkpoint>& resumed) {
  if (!resumed) return "onednn";
  auto it = resumed->header.find("backend");
  return it == resumed->header.end() ? "onednn" : it->second;
}

std::string run_dir_of(const std::string& resume) {
  return std::filesystem::is_directory(resume) ? resume
                                               : std::filesystem::path(resume).parent_path().string();
}

// "batch 256, lr 0.9, 10 epochs, 28×28 input, sgd" and what the recipe adds to plain SGD.
std::string recipe_text(const Recipe& r) {
  const OptimizerAttrs& o = r.optimizer;
  std::string text = fmt::format("batch {}, lr {}, {} epochs, {}×{} input, {}", r.batch, r.lr, r.epochs,
                                 r.input_size, r.input_size, o.kind);
  if (o.momentum > 0) text += fmt::format(" momentum {}{}", o.momentum, o.nesterov ? " nesterov" : "");
  if (o.weight_decay > 0) text += fmt::format(", weight decay {}", o.weight_decay);
  if (r.schedule.kind != "constant") text += ", " + schedule_text(r.schedule);
  if (r.schedule.warmup_epochs > 0) text += fmt::format(" after {} epoch warm-up", r.schedule.warmup_epochs);
  if (r.augment.crop_padding > 0) text += fmt::format(", crops padded {}", r.augment.crop_padding);
  if (r.augment.flip) text += ", flips";
  return text;
}

void list_nets() {
  for (const NetDef& net : all_nets()) {
    std::cout << fmt::format("{:<12} {}\n{:<12} book:   {}\n{:<12} modern: {}\n", net.name, net.description,
                             "", recipe_text(net.recipe), "",
                             recipe_text(named_recipe(net.recipe, "modern")));
  }
}

// Without --threads, the ranks on this machine (mpirun says how many) share its cores equally.
void share_cores_among_local_ranks() {
  const char* local = std::getenv("OMPI_COMM_WORLD_LOCAL_SIZE");
  const int ranks = local != nullptr ? std::max(1, std::atoi(local)) : 1;
  const int threads = std::max(1, static_cast<int>(std::thread::hardware_concurrency()) / ranks);
  set_cpu_threads(threads);
}

int train_and_report(Flags& flags, bool data_parallel);

int run(int argc, char** argv) {
  Flags flags(
      "usage: train [--net=NAME|list | --model=FILE.onnx] [--backend=PLUGIN] [flags]\n"
      "Trains a net on Fashion-MNIST with the book's recipe (or --recipe=modern); flags override the "
      "recipe.");
  flags.add("net", "", "the net (default lenet; --net=list lists them with their recipes)");
  flags.add("model", "", "instead of --net, an ONNX model's architecture (one input [N,1,H,H], logits out)");
  flags.add("init", "", "with --model: start from its initializers (model, the default) or xavier");
  flags.add("backend", "", "the plugin that runs the step (default onednn, or the resumed run's)");
  flags.add("epochs", "", "epochs (default: the recipe's)");
  flags.add("batch", "", "batch size (default: the recipe's)");
  flags.add("recipe", "", "book (the default: the book's recipe) or modern (--net=list shows both)");
  flags.add("lr", "", "learning rate (default: the recipe's)");
  flags.add("optimizer", "", "sgd, sgdw, adam or adamw (w: decoupled weight decay; default: the recipe's)");
  flags.add("momentum", "", "sgd's momentum in [0,1) (default: the recipe's)");
  flags.add("nesterov", "", "Nesterov momentum");
  flags.add("weight-decay", "", "weight decay (L2 for sgd and adam, decoupled for sgdw and adamw)");
  flags.add("clip-norm", "", "clip the gradients to this global norm (default: none)");
  flags.add("lr-schedule", "", "constant, cosine or step:EVERY:GAMMA (default: the recipe's)");
  flags.add("warmup", "", "epochs of linear learning-rate warm-up (default: the recipe's)");
  flags.add("resize", "", "input size (default: the recipe's)");
  flags.add("seed", "", "seed of the initialisation, shuffle and dropout (default 0)");
  flags.add("threads", "", "CPU threads (default: all cores)");
  flags.add("out", "", "run directory (default: runs/<net>-<backend>-<time>)");
  flags.add("resume", "", "continue the run in this directory (or from this checkpoint) with its settings");
  flags.add("checkpoint-every", "10m", "checkpoint within an epoch after a duration (90s, 10m, 1h) or steps");
  flags.add("limit", "", "use only the first N training and test examples (default: all)");
  flags.add("val", "", "hold the last N training examples out and evaluate them each epoch (default 0)");
  flags.add("crop-padding", "", "augment: random crops of the image zero-padded by N pixels (default 0)");
  flags.add("flip", "", "augment: mirror training images left-right at random");
  flags.add("no-fusion", "", "run the graphs unfused (no passes/fusion.h passes)");
  flags.add("disable", "", "fusion passes to skip, comma-separated (to bisect)");
  flags.add("precision", "", "f32 (default), or bf16: mixed precision (bf16 activations and weight copies)");
  flags.add("data-dir", kFashionMnistDir, "the Fashion-MNIST idx files");
  flags.add("data-parallel", "",
            "one rank of a job started by mpirun: each trains on its part of every batch (--batch is the "
            "global batch), gradients averaged over the ranks; rank 0 prints and writes the run");
  flags.add("sync-bn", "",
            "with --data-parallel, batch-norm statistics over the whole batch (every rank's part)");
  flags.add("communicator", "mpi",
            "with --data-parallel, the collectives' library (backends/communicator.h)");
  flags.add("timeout", "300",
            "with --data-parallel, seconds a rank waits for the others before the job ends");
  flags.parse(argc, argv);
  check_no_positional(flags);
  std::signal(SIGXFSZ,
              SIG_IGN);  // past a file size limit, a write fails (and is reported) instead of killing
  if (flags.get("net") == "list") {
    list_nets();
    return 0;
  }
  const bool data_parallel = flags.is_set("data-parallel") && flags.get_bool("data-parallel");
  if (flags.is_set("threads")) {
    set_cpu_threads(static_cast<int>(flags.get_int_in("threads", 1, 4096)));
  } else if (data_parallel) {
    share_cores_among_local_ranks();
  }
  if (!data_parallel) {
    for (const char* flag : {"sync-bn", "communicator", "timeout"}) {
      if (flags.is_set(flag)) fail("--{} is for --data-parallel runs (under mpirun)", flag);
    }
    return train_and_report(flags, false);
  }
  const double timeout = flags.get_float("timeout");
  if (!(timeout > 0)) fail("--timeout must be a positive number of seconds, got {}", flags.get("timeout"));
  join_world(load_communicator(flags.get("communicator")), timeout);
  try {
    const int status = train_and_report(flags, true);
    leave_world();
    return status;
  } catch (const std::exception& e) {  // every rank ends, this one saying why
    std::cerr << "error: " << rank_prefix() << e.what() << "\n";
    world().abort(2);
    throw;
  }
}

// Trains as the flags say and prints the book's summary lines (on rank 0 of a data-parallel job).
int train_and_report(Flags& flags, bool data_parallel) {
  TrainOptions options;
  if (flags.is_set("net") || flags.is_set("model"))  // an unknown net or a bad model: an error now
    options.net = flags.is_set("model") ? model_flag(flags) : net_flag(flags, "").name;
  if (flags.is_set("init")) options.init = flags.get("init");
  options.data_dir = user_path(flags.get("data-dir"));
  const std::string resume = flags.is_set("resume") ? user_path(flags.get("resume")) : "";
  if (!resume.empty()) options.resumed = load_resume_checkpoint(resume);
  if (flags.is_set("epochs")) options.epochs = flags.get_int("epochs");
  if (flags.is_set("batch")) options.batch = flags.get_int("batch");
  if (flags.is_set("recipe")) options.recipe = flags.get("recipe");
  if (flags.is_set("lr")) options.lr = flags.get_float("lr");
  if (flags.is_set("optimizer")) options.optimizer = flags.get("optimizer");
  if (flags.is_set("momentum")) options.momentum = flags.get_float("momentum");
  if (flags.is_set("nesterov")) options.nesterov = flags.get_bool("nesterov");
  if (flags.is_set("weight-decay")) options.weight_decay = flags.get_float("weight-decay");
  if (flags.is_set("clip-norm")) options.clip_norm = flags.get_float("clip-norm");
  if (flags.is_set("lr-schedule")) options.lr_schedule = flags.get("lr-schedule");
  if (flags.is_set("warmup")) options.warmup = flags.get_float("warmup");
  if (flags.is_set("resize")) options.resize = flags.get_int("resize");
  if (flags.is_set("seed")) options.seed = static_cast<uint64_t>(flags.get_int_in("seed", 0, INT64_MAX));
  if (flags.is_set("limit")) options.limit = flags.get_int("limit");
  if (flags.is_set("val")) options.val = flags.get_int("val");
  if (flags.is_set("crop-padding")) options.crop_padding = flags.get_int("crop-padding");
  if (flags.is_set("flip")) options.flip = flags.get_bool("flip");
  if (flags.is_set("no-fusion")) options.fusion = !flags.get_bool("no-fusion");
  if (flags.is_set("disable")) options.disabled_fusions = name_list(flags, "disable");
  if (flags.is_set("precision")) options.precision = flags.get("precision");
  options.checkpoint_every = parse_checkpoint_every(flags.get("checkpoint-every"));
  options.data_parallel = data_parallel;
  options.sync_bn = flags.is_set("sync-bn") && flags.get_bool("sync-bn");
  const std::string backend =
      flags.is_set("backend") ? flags.get("backend") : resumed_backend(options.resumed);
  options.out = flags.is_set("out") ? user_path(flags.get("out"))
                : resume.empty() ? default_run_dir(find_any_net(options.net.value_or("lenet")).name, backend)
                                 : run_dir_of(resume);

  const stratum_plugin& plugin = load_plugin(backend);
  const bool leader = world().rank() == 0;
  if (leader) {
    std::cerr << fmt::format("training on {} ({}), run directory {}\n", plugin.name, plugin.description,
                             options.out);
  }
  if (leader && data_parallel) {
    std::cerr << fmt::format("data parallel over {} rank{} ({}): each trains on 1/{} of every batch\n",
                             world().size(), world().size() == 1 ? "" : "s", world().name, world().size());
  }
  const TrainResult result = train(options, plugin);
  if (!leader) return 0;
  if (result.epochs.empty()) {
    std::cout << "nothing to do: the checkpoint has every epoch already\n";
    return 0;
  }
  const EpochMetrics& last = result.epochs.back();
  double seconds = 0, examples = 0;
  for (const EpochMetrics& m : result.epochs) {
    seconds += m.seconds;
    examples += m.examples_per_sec * m.seconds;
  }
  std::cout << fmt::format("loss {:.3f}, train acc {:.3f}, test acc {:.3f}{}\n", last.loss, last.train_acc,
                           last.test_acc, val_text(last));
  std::cout << fmt::format("{:.1f} examples/sec on {} ({})\n", examples / seconds, plugin.name,
                           plugin.device_kind);
  return 0;
}

}  // namespace
}  // namespace stratum

int main(int argc, char** argv) { return stratum::run_tool(argc, argv, stratum::run); }
