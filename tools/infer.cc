// infer: classifies images with an ONNX model or a trained run's checkpoint: accuracy, the confusion matrix
// and the first predictions with their class names.
//   bazel run //tools:infer -- --model=lenet.onnx
//   bazel run //tools:infer -- --checkpoint=runs/lenet-onednn-20261130-120000 --images=my-images-idx3-ubyte
#include <fmt/format.h>

#include <iostream>

#include "backends/executor.h"
#include "backends/loader.h"
#include "backends/softmax_row.h"
#include "data/batches.h"
#include "data/fashion_mnist.h"
#include "ir/error.h"
#include "tools/net_flags.h"
#include "train/run_state.h"
#include "train/step.h"

namespace stratum {
namespace {

constexpr int kClasses = 10;
const char* const kClassNames[kClasses] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                           "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

struct Prediction {
  int label, predicted;
  float probability;  // softmax of the logits at the predicted class
};

// The images to classify: the Fashion-MNIST test set, or --images (with --labels, when given).
Dataset images_from_flags(const Flags& flags) {
  if (!flags.is_set("images")) {
    if (flags.is_set("labels")) fail("--labels goes with --images");
    return load_fashion_mnist(user_path(flags.get("data-dir")), /*train=*/false);
  }
  Dataset data;
  std::vector<int64_t> dims;
  data.images = read_idx(user_path(flags.get("images")), /*images=*/true, &dims);
  if (dims.size() != 3) fail("--images={}: expected N×rows×cols images", flags.get("images"));
  data.count = dims[0], data.rows = dims[1], data.cols = dims[2];
  data.labels.assign(data.count, 0);
  if (flags.is_set("labels")) {
    data.labels = read_idx(user_path(flags.get("labels")), /*images=*/false, &dims);
    if (dims[0] != data.count) fail("--labels has {} labels for {} images", dims[0], data.count);
  }
  return data;
}

Prediction predict(const float* logits, int label) {
  const SoftmaxRow row(logits, kClasses);
  return {label, int(row.argmax), float(1 / row.sum_exp)};
}

// Runs the net over every image, `batch` at a time (the last batch smaller, each shape compiled once).
std::vector<Prediction> classify(const StepSpec& spec, const Store& weights, const Dataset& data,
                                 const stratum_plugin& plugin) {
  BatchLoader loader(data, spec.batch, spec.size_or_recipe(), false, 0, 0, /*keep_partial=*/true);
  std::map<int64_t, std::pair<std::unique_ptr<Graph>, std::unique_ptr<Executor>>> shapes;
  std::vector<Prediction> predictions;
  loader.start_epoch(0);
  Batch batch;
  while (loader.next(&batch)) {
    const int64_t n = batch.labels.size();
    auto& [graph, executor] = shapes[n];
    if (!executor) {
      StepSpec shape = spec;
      shape.batch = n;
      graph = build_step(shape, {&plugin});
      executor = std::make_unique<Executor>(*graph, plugin);
      executor->load_state(weights);
    }
    executor->run({{"x", batch.images}, {"labels", batch.labels}});
    const Tensor logits = executor->outputs()[2];
    for (int64_t i = 0; i < n; ++i)
      predictions.push_back(predict(logits.f32() + i * kClasses, batch.labels.i32()[i]));
  }
  return predictions;
}

void print_report(const std::vector<Prediction>& predictions, bool labelled, int64_t show) {
  for (int64_t i = 0; i < std::min<int64_t>(show, predictions.size()); ++i) {
    const Prediction& p = predictions[i];
    std::cout << fmt::format("image {:>5}: {:<12} {:5.1f}%{}\n", i, kClassNames[p.predicted],
                             100 * p.probability,
                             labelled ? fmt::format("  (label: {})", kClassNames[p.label]) : "");
  }
  if (!labelled) return;
  int64_t counts[kClasses][kClasses] = {}, correct = 0;
  for (const Prediction& p : predictions) {
    ++counts[p.label][p.predicted];
    correct += p.label == p.predicted;
  }
  std::cout << fmt::format(
      "\naccuracy {:.4f} ({} of {})\n\nconfusion matrix (rows: label, columns: predicted)\n",
      double(correct) / predictions.size(), correct, predictions.size());
  std::cout << fmt::format("{:>12}", "");
  for (int c = 0; c < kClasses; ++c) std::cout << fmt::format(" {:>6.6}", kClassNames[c]);
  std::cout << "\n";
  for (int r = 0; r < kClasses; ++r) {
    std::cout << fmt::format("{:>12}", kClassNames[r]);
    for (int c = 0; c < kClasses; ++c) std::cout << fmt::format(" {:>6}", counts[r][c]);
    std::cout << "\n";
  }
}

int run(int argc, char** argv) {
  Flags flags(
      "usage: infer --model=FILE.onnx | --checkpoint=RUN_DIR [--images=IDX_FILE [--labels=IDX_FILE]] "
      "[--backend=PLUGIN]\n"
      "Classifies images (default: the Fashion-MNIST test set): accuracy, confusion matrix, first "
      "predictions.");
  flags.add("model", "", "an ONNX image classifier (one input [N,1,H,H], logits out)");
  flags.add("checkpoint", "", "a run directory of train, or a checkpoint file: its net and weights");
  flags.add("images", "", "an idx file of greyscale images (default: the Fashion-MNIST test set)");
  flags.add("labels", "", "an idx file of their labels, for the accuracy and confusion matrix");
  flags.add("backend", "onednn", "the plugin that runs the net");
  flags.add("batch", "256", "images per step");
  flags.add("precision", "", "f32, or bf16: mixed precision (default: the run's, f32 for a model)");
  flags.add("show", "10", "how many predictions to print");
  flags.add("data-dir", kFashionMnistDir, "the Fashion-MNIST idx files");
  flags.parse(argc, argv);
  check_no_positional(flags);
  if (flags.is_set("model") == flags.is_set("checkpoint")) fail("give one of --model and --checkpoint");
  StepSpec spec;
  spec.training = false;
  spec.logits = true;
  spec.batch = flags.get_int_in("batch", 1, 1 << 20);
  Store weights;
  if (flags.is_set("model")) {
    spec.net = &find_any_net(model_flag(flags));
  } else {
    Checkpoint checkpoint = load_resume_checkpoint(user_path(flags.get("checkpoint")));
    TrainOptions options;
    options.resumed = checkpoint;
    const RunSettings run = resolve_settings(options);
    spec.net = &find_any_net(run.net);
    spec.size = run.recipe.input_size;
    spec.precision = run.precision;
    weights = std::move(checkpoint.tensors);
  }
  if (flags.is_set("precision")) spec.precision = parse_precision(flags.get("precision"));
  const stratum_plugin& plugin = load_plugin(flags.get("backend"));
  const Dataset data = images_from_flags(flags);
  if (weights.empty()) weights = *model_weights(*spec.net);  // an ONNX model: its initializers
  std::cerr << fmt::format("classifying {} images with {} on {}\n", data.count, spec.net->name, plugin.name);
  print_report(classify(spec, weights, data, plugin), flags.is_set("labels") || !flags.is_set("images"),
               flags.get_int_in("show", 0, INT64_MAX));
  return 0;
}

}  // namespace
}  // namespace stratum

int main(int argc, char** argv) { return stratum::run_tool(argc, argv, stratum::run); }
