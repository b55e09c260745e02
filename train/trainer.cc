#include "train/trainer.h"

#include <chrono>
#include <cmath>
#include <filesystem>

#include "backends/executor.h"
#include "backends/world.h"
#include "data/batches.h"
#include "ir/error.h"
#include "ir/printer.h"
#include "nets/nets.h"
#include "train/files.h"
#include "train/run_state.h"
#include "train/schedule.h"
#include "train/step.h"

namespace stratum {

namespace {

using Clock = std::chrono::steady_clock;

StepSpec step_spec(const RunSettings& run, int64_t batch, bool training) {
  return {&find_any_net(run.net), batch, run.recipe.input_size, training, run.fusion, run.recipe.optimizer,
          run.disabled_fusions,   false, run.precision};
}

// The first node of the step whose output is not finite, found by running the step again on the reference
// backend from the state before it; null when the reference computes only finite values.
const Node* first_non_finite(const Graph& graph, const std::map<std::string, Tensor>& feeds, Store state) {
  Interpreter interpreter(graph);
  interpreter.run(feeds, state);
  for (const auto& node : graph.nodes()) {
    for (const Value* out : node->outputs()) {
      if (out->type().dtype == DType::i32) continue;
      const Tensor t = converted(interpreter.value(out), DType::f32);
      if (!all_finite(t.f32(), t.size())) return node.get();
    }
  }
  return nullptr;
}

// One training step; when it computes a non-finite value (and so applies nothing), an Error naming the
// first node that computes one.
void run_step(Executor& executor, const Graph& graph, const std::map<std::string, Tensor>& feeds,
              int64_t step) {
  try {
    executor.run(feeds);
  } catch (const NonFiniteStep& e) {
    const Node* node = first_non_finite(graph, feeds, executor.save_state());
    if (node == nullptr) {
      fail(
          "step {}: {}, but the reference backend computes this step with finite values: the plugin's "
          "result differs",
          step, e.what());
    }
    fail("step {}: {}; the first node with a non-finite output is {} (node {} of the training step)", step,
         e.what(), node->label(), graph.index_of(node));
  }
}

// Evaluation: the mean loss and the fraction predicted correctly of the first `limit` examples of a set
// (all when 0), in batches of the training batch size and one smaller batch for the rest, each shape
// compiled once.
class Evaluator {
 public:
  struct Score {
    double loss, accuracy;
  };

  // The graphs read the training step's weights from `step` where it holds them, rather than a copy each.
  // Data parallel, each rank scores its part of the examples (`shard`) and the sums are the ranks'.
  Evaluator(const RunSettings& run, const Dataset& data, int64_t limit, const stratum_plugin& plugin,
            const Executor& step, Shard shard)
      : part_(part_of(data, limit, shard)),
        loader_(part_, run.recipe.batch, run.recipe.input_size, false, 0, 0, /*keep_partial=*/true),
        ranks_(shard.count) {
    const int64_t rest = loader_.examples_per_epoch() % run.recipe.batch;
    for (int64_t batch : {run.recipe.batch, rest}) {
      if (batch == 0 || (batch > loader_.examples_per_epoch())) continue;
      auto& shape = shapes_.emplace_back();
      shape.graph = build_step(step_spec(run, batch, /*training=*/false), {&plugin});
      shape.executor = std::make_unique<Executor>(*shape.graph, plugin, &step);
    }
  }

  Score score(const Store& state) {
    for (Shape& shape : shapes_) shape.executor->load_state(state);
    loader_.start_epoch(0);
    double loss_sum = 0;
    int64_t correct = 0;
    Batch batch;
    while (loader_.next(&batch)) {
      Executor& executor = executor_for(batch.labels.size());
      executor.run({{"x", batch.images}, {"labels", batch.labels}});
      loss_sum += double(executor.outputs()[0].f32()[0]) * batch.labels.size();
      correct += executor.outputs()[1].i32()[0];
    }
    std::vector<double> totals = {loss_sum, double(correct), double(loader_.examples_per_epoch())};
    if (ranks_ > 1) sum_over_ranks(totals, "allreduce of the evaluation's sums");
    return {totals[0] / totals[2], totals[1] / totals[2]};
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

  // The shard's contiguous part of the first `limit` examples (all when 0).
  static Dataset part_of(const Dataset& data, int64_t limit, Shard shard) {
    const int64_t used = limit > 0 ? std::min(limit, data.count) : data.count;
    const int64_t begin = used * shard.index / shard.count, end = used * (shard.index + 1) / shard.count;
    if (begin == end)
      fail("{} examples leave rank {} of {} none to evaluate", used, shard.index, shard.count);
    return slice(data, begin, end);
  }

  Dataset part_;  // what loader_ reads
  BatchLoader loader_;
  int64_t ranks_;
  std::vector<Shape> shapes_;
};

// A step's loss (times its examples), correct predictions and examples, of every rank's part when data
// parallel.
struct StepTotals {
  double loss_sum;
  int64_t correct, examples;
};
StepTotals step_totals(const std::vector<Tensor>& outputs, int64_t examples, bool data_parallel) {
  std::vector<double> totals = {double(outputs[0].f32()[0]) * examples, double(outputs[1].i32()[0]),
                                double(examples)};
  if (data_parallel) sum_over_ranks(totals, "allreduce of the step's loss");
  return {totals[0], std::llround(totals[1]), std::llround(totals[2])};
}

// Writes the run's checkpoint (and at an epoch's end its metrics and curves), when due.
class RunWriter {
 public:
  RunWriter(const std::string& dir, const RunSettings& run, const std::string& backend, CheckpointEvery every)
      : dir_(dir), run_(run), backend_(backend), every_(every) {}

  bool due(int64_t step) const {
    if (every_.steps > 0) return step % every_.steps == 0;
    return std::chrono::duration<double>(Clock::now() - last_).count() >= every_.seconds;
  }

  void save(const RunPosition& position, const Store& state) {
    const std::string path = dir_ + "/checkpoint.ckpt";
    try {
      save_checkpoint(path, run_header(run_, position, backend_), state);
    } catch (const Error& e) {
      fail("cannot save the checkpoint: {}; the checkpoint before it is intact{}", e.what(),
           std::filesystem::exists(path) ? " (" + path + ")" : "");
    }
    last_ = Clock::now();
    if (position.partial.batches > 0) return;
    write_file_atomically(dir_ + "/metrics.csv", metrics_csv(position.history));
    write_file_atomically(dir_ + "/curves.svg", curves_svg(position.history, run_.net + " on Fashion-MNIST"));
  }

 private:
  std::string dir_;
  const RunSettings& run_;
  std::string backend_;
  CheckpointEvery every_;
  Clock::time_point last_ = Clock::now();
};

}  // namespace

CheckpointEvery parse_checkpoint_every(const std::string& text) {
  char* end = nullptr;
  const double amount = std::strtod(text.c_str(), &end);
  const std::string unit = end;
  CheckpointEvery every;
  const bool whole = amount == std::floor(amount);
  if (unit.empty() && whole && amount >= 1 && amount <= 1e12) {
    every.steps = static_cast<int64_t>(amount);
  } else if ((unit == "s" || unit == "m" || unit == "h") && amount > 0 && std::isfinite(amount)) {
    every.seconds = amount * (unit == "s" ? 1 : unit == "m" ? 60 : 3600);
  } else {
    fail("--checkpoint-every takes a duration (90s, 10m, 1h) or a number of steps (500), got '{}'", text);
  }
  return every;
}

TrainResult train(const TrainOptions& options, const stratum_plugin& plugin) {
  const RunSettings run = resolve_settings(options);
  const int64_t epochs = run.recipe.epochs;
  const Shard shard = options.data_parallel ? Shard{world().rank(), world().size()} : Shard{};
  const bool leader = shard.index == 0;
  if (options.sync_bn && !options.data_parallel) fail("sync_bn is for data-parallel runs");
  if (run.recipe.batch % shard.count != 0)
    fail("the batch of {} cannot be split among {} ranks: give a --batch they divide", run.recipe.batch,
         shard.count);

  const auto [train_set, val_set] = split_validation(load_fashion_mnist(options.data_dir, true), run);
  const Dataset test_set = load_fashion_mnist(options.data_dir, false);
  StepSpec spec = step_spec(run, run.recipe.batch / shard.count, /*training=*/true);
  spec.data_parallel = options.data_parallel;
  spec.sync_bn = options.sync_bn;
  auto graph = build_step(spec, {&plugin});
  Executor executor(*graph, plugin);
  Evaluator evaluator(run, test_set, run.limit, plugin, executor, shard);
  std::optional<Evaluator> validator;
  if (run.val > 0) validator.emplace(run, val_set, 0, plugin, executor, shard);
  BatchLoader loader(train_set, run.recipe.batch, run.recipe.input_size, true, run.seed, 0,
                     /*keep_partial=*/false, run.recipe.augment, shard);

  RunPosition position;
  Store state;
  if (options.resumed) {
    position = run_position(*options.resumed);
    state = options.resumed->tensors;
  } else {
    state = init_store(*graph, run.seed);
    if (run.init == "model") use_model_weights(find_any_net(run.net), state);
  }
  executor.load_state(state);
  if (leader) {
    std::filesystem::create_directories(options.out);
    write_file_atomically(options.out + "/train.ir", print_graph(*graph));
  }
  RunWriter writer(options.out, run, plugin.name, options.checkpoint_every);
  const bool progress_shown = options.progress && leader;

  const bool keyed = graph->find("step") != nullptr;
  std::map<std::string, Tensor> feeds;
  for (int64_t epoch = position.history.size() + 1; epoch <= epochs; ++epoch) {
    EpochTotals& t = position.partial;
    loader.start_epoch(epoch, t.batches);
    Progress progress(epoch, epochs, loader.batches_per_epoch());
    Batch batch;
    auto last = Clock::now();  // the epoch's seconds are the loop's wall clock, checkpoints included
    while (loader.next(&batch)) {
      feeds["x"] = std::move(batch.images);
      feeds["labels"] = std::move(batch.labels);
      feeds["lr"] = Tensor(static_cast<float>(scheduled_lr(run.recipe.schedule, run.recipe.lr, position.step,
                                                           loader.batches_per_epoch(), epochs)));
      if (keyed) {
        feeds["step"] = Tensor({DType::i32, {}});
        feeds["step"].i32()[0] = dropout_key(run.seed, position.step * shard.count + shard.index);
      }
      run_step(executor, *graph, feeds, position.step);
      const StepTotals step = step_totals(executor.outputs(), feeds["labels"].size(), options.data_parallel);
      t.loss_sum += step.loss_sum;
      t.correct += step.correct;
      t.examples += step.examples;
      ++t.batches;
      ++position.step;
      const auto now = Clock::now();
      t.seconds += std::chrono::duration<double>(now - last).count();
      last = now;
      if (progress_shown) progress.update(t.batches, t.examples, t.loss_sum, t.correct, t.seconds);
      if (leader && t.batches < loader.batches_per_epoch() && writer.due(position.step)) {
        executor.save_state(state);  // into the tensors it holds: no allocation
        writer.save(position, state);
      }
    }
    executor.save_state(state);
    EpochMetrics m{
        epoch,     t.loss_sum / t.examples, double(t.correct) / t.examples, evaluator.score(state).accuracy,
        t.seconds, t.examples / t.seconds};
    if (validator) {
      const Evaluator::Score val = validator->score(state);
      m.validated = true;
      m.val_loss = val.loss;
      m.val_acc = val.accuracy;
    }
    position.history.push_back(m);
    t = {};
    if (progress_shown) progress.finish(m);
    if (leader) writer.save(position, state);
  }
  return {std::move(position.history), std::move(state)};
}

}  // namespace stratum
