// train: a classic CNN on Fashion-MNIST with the book's recipe.
//   bazel run //tools:train                      LeNet, 10 epochs, on the oneDNN plugin
//   bazel run //tools:train -- --net=bn_lenet --epochs=2 --limit=10000
#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <iostream>

#include "backends/loader.h"
#include "data/fashion_mnist.h"
#include "ir/error.h"
#include "nets/nets.h"
#include "passes/pass.h"
#include "tools/flags.h"
#include "train/trainer.h"

namespace stratum {
namespace {

std::string default_run_dir(const std::string& net, const std::string& backend) {
  const std::time_t now = std::time(nullptr);
  char stamp[32];
  std::strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", std::localtime(&now));
  return user_path(fmt::format("runs/{}-{}-{}", net, backend, stamp));
}

void list_nets() {
  for (const NetDef& net : all_nets()) {
    const Recipe& r = net.recipe;
    std::cout << fmt::format("{:<12} batch {:>3}, lr {:<5}, {} epochs, {}×{} input: {}\n", net.name, r.batch,
                             r.lr, r.epochs, r.input_size, r.input_size, net.description);
  }
}

int run(int argc, char** argv) {
  Flags flags(
      "usage: train [--net=NAME|list] [--backend=PLUGIN] [flags]\n"
      "Trains a net on Fashion-MNIST with the book's recipe; flags override the recipe.");
  flags.add("net", "lenet", "the net (--net=list lists them with their recipes)");
  flags.add("backend", "onednn", "the plugin that runs the step (reference, onednn, ...)");
  flags.add("epochs", "", "epochs (default: the recipe's)");
  flags.add("batch", "", "batch size (default: the recipe's)");
  flags.add("lr", "", "learning rate (default: the recipe's)");
  flags.add("resize", "", "input size (default: the recipe's)");
  flags.add("seed", "0", "seed of the initialisation, shuffle and dropout");
  flags.add("threads", "", "CPU threads (default: all cores)");
  flags.add("out", "", "run directory (default: runs/<net>-<backend>-<time>)");
  flags.add("resume", "", "continue from this run directory or checkpoint");
  flags.add("limit", "0", "use only the first N training and test examples");
  flags.add("no-fusion", "false", "run the graphs unfused (no passes/fusion.h passes)");
  flags.add("disable", "", "fusion passes to skip, comma-separated (to bisect)");
  flags.add("data-dir", kFashionMnistDir, "the Fashion-MNIST idx files");
  flags.parse(argc, argv);
  if (flags.get("net") == "list") {
    list_nets();
    return 0;
  }
  if (flags.is_set("threads")) setenv("OMP_NUM_THREADS", flags.get("threads").c_str(), 1);

  TrainOptions options;
  options.net = flags.get("net");
  options.data_dir = user_path(flags.get("data-dir"));
  options.resume = flags.is_set("resume") ? user_path(flags.get("resume")) : "";
  options.out = flags.is_set("out")      ? user_path(flags.get("out"))
                : options.resume.empty() ? default_run_dir(options.net, flags.get("backend"))
                                         : options.resume;
  options.epochs = flags.is_set("epochs") ? flags.get_int("epochs") : 0;
  options.batch = flags.is_set("batch") ? flags.get_int("batch") : 0;
  options.lr = flags.is_set("lr") ? flags.get_float("lr") : 0;
  options.resize = flags.is_set("resize") ? flags.get_int("resize") : 0;
  options.seed = static_cast<uint64_t>(flags.get_int("seed"));
  options.limit = flags.get_int("limit");
  options.fusion = !flags.get_bool("no-fusion");
  for (std::string_view name : split_top_level(flags.get("disable")))
    options.disabled_fusions.emplace_back(name);
  find_net(options.net);  // an unknown net is an error before anything loads

  const stratum_plugin& plugin = load_plugin(flags.get("backend"));
  std::cerr << fmt::format("training {} on {} ({}), run directory {}\n", options.net, plugin.name,
                           plugin.description, options.out);
  const TrainResult result = train(options, plugin);
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
  std::cout << fmt::format("loss {:.3f}, train acc {:.3f}, test acc {:.3f}\n", last.loss, last.train_acc,
                           last.test_acc);
  std::cout << fmt::format("{:.1f} examples/sec on {} ({})\n", examples / seconds, plugin.name,
                           plugin.device_kind);
  return 0;
}

}  // namespace
}  // namespace stratum

int main(int argc, char** argv) { return stratum::run_tool(argc, argv, stratum::run); }
