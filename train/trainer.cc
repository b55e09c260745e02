#include "train/trainer.h"

#include <chrono>
#include <cmath>
#include <filesystem>

#include "backends/executor.h"
#include "data/batches.h"
#include "ir/error.h"
#include "ir/printer.h"
#include "nets/nets.h"
#include "train/checkpoint.h"
#include "train/files.h"
#include "train/step.h"

namespace stratum {

namespace {

using Clock = std::chrono::steady_clock;

StepSpec step_spec(const NetDef& net, const Recipe& recipe, const TrainOptions& options, int64_t batch,
                   bool training) {
  return {&net, batch, recipe.input_size, training, options.fusion, recipe.lr, options.disabled_fusions};
}

// The first node of the step whose output is not finite, found by running the step again on the reference
// backend from the state before it; null when the reference computes only finite values.
const Node* first_non_finite(const Graph& graph, const std::map<std::string, Tensor>& feeds, Store state) {
  Interpreter interpreter(graph);
  interpreter.run(feeds, state);
  for (const auto& node : graph.nodes()) {
    for (const Value* out : node->outputs()) {
      if (out->type().dtype != DType::f32) continue;
      const Tensor& t = interpreter.value(out);
      for (int64_t i = 0; i < t.size(); ++i) {
        if (!std::isfinite(t.f32()[i])) return node.get();
      }
    }
  }
  return nullptr;
}

[[noreturn]] void fail_non_finite(const Graph& graph, int64_t step, float loss,
                                  const std::map<std::string, Tensor>& feeds, const Store& before) {
  const Node* node = first_non_finite(graph, feeds, before);
  if (node == nullptr) {
    fail(
        "step {}: the loss is {}, but the reference backend computes this step with finite values: the "
        "plugin's "
        "result differs",
        step, loss);
  }
  fail(
      "step {}: the loss is {}; the first node with a non-finite output is {} (node {} of the training step)",
      step, loss, node->label(), graph.index_of(node));
}

// Evaluation: the fraction of the test set predicted correctly, in batches of the training batch size and
// one smaller batch for the rest, each shape compiled once.
class Evaluator {
 public:
  Evaluator(const NetDef& net, const Recipe& recipe, const Dataset& test, const TrainOptions& options,
            const stratum_plugin& plugin)
      : loader_(test, recipe.batch, recipe.input_size, false, 0, options.limit, /*keep_partial=*/true) {
    const int64_t rest = loader_.examples_per_epoch() % recipe.batch;
    for (int64_t batch : {recipe.batch, rest}) {
      if (batch == 0 || (batch > loader_.examples_per_epoch())) continue;
      auto& shape = shapes_.emplace_back();
      shape.graph = build_step(step_spec(net, recipe, options, batch, /*training=*/false), {&plugin});
      shape.executor = std::make_unique<Executor>(*shape.graph, plugin);
    }
  }

  double accuracy(const Store& state) {
    for (Shape& shape : shapes_) shape.executor->load_state(state);
    loader_.start_epoch(0);
    int64_t correct = 0;
    Batch batch;
    while (loader_.next(&batch)) {
      Executor& executor = executor_for(batch.labels.size());
      executor.run({{"x", batch.images}, {"labels", batch.labels}});
      correct += executor.outputs()[1].i32()[0];
    }
    return double(correct) / loader_.examples_per_epoch();
  }

 private:
  struct Shape {
    std::unique_ptr<Graph> graph;
    std::unique_ptr<Executor> executor;
  };
  Executor& executor_for(int64_t batch) {
    for (Shape& shape : shapes_) {
      if (shape.graph->find("labels")->type().shape[0] == batch) return *shape.executor;
    }
    fail("no evaluation graph for a batch of {}", batch);
  }

  BatchLoader loader_;
  std::vector<Shape> shapes_;
};

std::string checkpoint_path(const std::string& dir) { return dir + "/checkpoint.ckpt"; }

// The metrics so far and where to continue, from a checkpoint; checks it belongs to this net and seed.
Checkpoint resume_from(const TrainOptions& options, std::vector<EpochMetrics>& history) {
  const std::string path =
      std::filesystem::is_directory(options.resume) ? checkpoint_path(options.resume) : options.resume;
  Checkpoint checkpoint = load_checkpoint(path);
  if (checkpoint.header["net"] != options.net) {
    fail("{} is a checkpoint of {}, not {}", path, checkpoint.header["net"], options.net);
  }
  if (checkpoint.header["seed"] != std::to_string(options.seed)) {
    fail("{} was trained with --seed={}, not {}", path, checkpoint.header["seed"], options.seed);
  }
  const std::string& metrics = checkpoint.header["metrics"];
  for (size_t start = 0; start < metrics.size();) {
    const size_t end = std::min(metrics.find('\n', start), metrics.size());
    history.push_back(parse_metrics(metrics.substr(start, end - start)));
    start = end + 1;
  }
  return checkpoint;
}

void save_run(const std::string& dir, const TrainOptions& options, const std::vector<EpochMetrics>& history,
              int64_t step, const Store& state) {
  Checkpoint checkpoint;
  checkpoint.header = {{"net", options.net},
                       {"seed", std::to_string(options.seed)},
                       {"epoch", std::to_string(history.size())},
                       {"step", std::to_string(step)}};
  std::string metrics;
  for (const EpochMetrics& m : history) metrics += (metrics.empty() ? "" : "\n") + metrics_line(m);
  checkpoint.header["metrics"] = metrics;
  checkpoint.tensors = state;
  save_checkpoint(checkpoint_path(dir), checkpoint);
  write_file_atomically(dir + "/metrics.csv", metrics_csv(history));
  write_file_atomically(dir + "/curves.svg", curves_svg(history, options.net + " on Fashion-MNIST"));
}

}  // namespace

TrainResult train(const TrainOptions& options, const stratum_plugin& plugin) {
  const NetDef& net = find_net(options.net);
  Recipe recipe = net.recipe;
  if (options.epochs > 0) recipe.epochs = options.epochs;
  if (options.batch > 0) recipe.batch = options.batch;
  if (options.lr > 0) recipe.lr = options.lr;
  if (options.resize > 0) recipe.input_size = options.resize;

  const Dataset train_set = load_fashion_mnist(options.data_dir, true);
  const Dataset test_set = load_fashion_mnist(options.data_dir, false);
  auto graph = build_step(step_spec(net, recipe, options, recipe.batch, /*training=*/true), {&plugin});
  Executor executor(*graph, plugin);
  Evaluator evaluator(net, recipe, test_set, options, plugin);
  BatchLoader loader(train_set, recipe.batch, recipe.input_size, true, options.seed, options.limit,
                     /*keep_partial=*/false);

  TrainResult result;
  Store state;
  int64_t step = 0;
  if (options.resume.empty()) {
    state = init_store(*graph, options.seed);
  } else {
    Checkpoint checkpoint = resume_from(options, result.epochs);
    state = std::move(checkpoint.tensors);
    step = std::stoll(checkpoint.header["step"]);
  }
  executor.load_state(state);
  std::filesystem::create_directories(options.out);
  write_file_atomically(options.out + "/train.ir", print_graph(*graph));

  const bool keyed = graph->find("step") != nullptr;
  for (int64_t epoch = result.epochs.size() + 1; epoch <= recipe.epochs; ++epoch) {
    loader.start_epoch(epoch);
    Progress progress(epoch, recipe.epochs, loader.batches_per_epoch());
    double loss_sum = 0, seconds = 0;
    int64_t correct = 0, examples = 0, done = 0;
    Batch batch;
    std::map<std::string, Tensor> feeds;
    while (loader.next(&batch)) {
      feeds["x"] = std::move(batch.images);
      feeds["labels"] = std::move(batch.labels);
      if (keyed) {
        feeds["step"] = Tensor({DType::i32, {}});
        feeds["step"].i32()[0] = static_cast<int32_t>(step);
      }
      feeds["step"] = Tensor({DType::i32, {}}), feeds["step"].i32()[0] = static_cast<int32_t>(step);
      executor.save_state(state);  // the state before the step, should it go wrong
      const auto start = Clock::now();
      executor.run(feeds);
      const auto outputs = executor.outputs();
      seconds += std::chrono::duration<double>(Clock::now() - start).count();
      const float loss = outputs[0].f32()[0];
      if (!std::isfinite(loss)) fail_non_finite(*graph, step, loss, feeds, state);
      const int64_t n = feeds["labels"].size();
      loss_sum += double(loss) * n;
      correct += outputs[1].i32()[0];
      examples += n;
      ++step;
      if (options.progress) progress.update(++done, examples, loss_sum, correct, seconds);
    }
    executor.save_state(state);
    EpochMetrics m{epoch,   loss_sum / examples, double(correct) / examples, evaluator.accuracy(state),
                   seconds, examples / seconds};
    result.epochs.push_back(m);
    if (options.progress) progress.finish(m);
    save_run(options.out, options, result.epochs, step, state);
  }
  result.state = std::move(state);
  return result;
}

}  // namespace stratum
