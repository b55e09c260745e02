#include "train/run_state.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iostream>

#include "ir/error.h"
#include "passes/optimizer.h"
#include "train/schedule.h"
#include "train/step.h"

namespace stratum {

namespace {

std::string to_text(const std::string& s) { return s; }
std::string to_text(int64_t v) { return std::to_string(v); }
std::string to_text(uint64_t v) { return std::to_string(v); }
std::string to_text(double v) { return fmt::format("{}", v); }  // the shortest text that reads back exactly
std::string to_text(bool v) { return v ? "true" : "false"; }
std::string to_text(const std::vector<std::string>& names) {
  return fmt::format("{}", fmt::join(names, ","));
}

void from_text(const std::string& text, std::string& v) { v = text; }
void from_text(const std::string& text, bool& v) { v = text == "true"; }
void from_text(const std::string& text, std::vector<std::string>& v) {
  v.clear();
  for (size_t start = 0; start < text.size();) {
    const size_t end = std::min(text.find(',', start), text.size());
    v.push_back(text.substr(start, end - start));
    start = end + 1;
  }
}
template <typename T>
void from_text(const std::string& text, T& v) {
  size_t used = 0;
  try {
    if constexpr (std::is_floating_point_v<T>) {
      v = std::stod(text, &used);
    } else {
      v = static_cast<T>(std::stoll(text, &used));
    }
  } catch (const std::exception&) {
    used = 0;
  }
  if (text.empty() || used != text.size()) fail("a checkpoint value '{}' is not a number", text);
}

// A setting of the run: the resumed run's, which an option may only repeat, else the option's, else
// `fallback`. A checkpoint from before the setting was recorded takes the option or the fallback.
template <typename T>
T setting(const std::string& key, const std::optional<T>& given, const Checkpoint* resumed, T fallback) {
  if (resumed != nullptr) {
    auto it = resumed->header.find(key);
    if (it != resumed->header.end()) {
      if (given && to_text(*given) != it->second) {
        fail("the run being resumed has {}={}, not {} as given; leave the flag out to continue it", key,
             it->second, to_text(*given));
      }
      T recorded;
      from_text(it->second, recorded);
      return recorded;
    }
  }
  return given ? *given : fallback;
}

template <typename T>
void check_range(const char* flag, T value, T low, T high) {
  if (!(value >= low && value <= high))
    fail("--{} must be between {} and {}, got {}", flag, to_text(low), to_text(high), to_text(value));
}

// The optimizer and schedule settings, checked, each named by its flag when it is out of range.
void resolve_optimizer(const TrainOptions& options, const Checkpoint* resumed, const Recipe& book,
                       Recipe& r) {
  OptimizerAttrs& o = r.optimizer;
  o.kind = setting("optimizer", options.optimizer, resumed, book.optimizer.kind);
  o.momentum = setting("momentum", options.momentum, resumed, book.optimizer.momentum);
  o.nesterov = setting("nesterov", options.nesterov, resumed, book.optimizer.nesterov);
  o.weight_decay = setting("weight-decay", options.weight_decay, resumed, book.optimizer.weight_decay);
  o.clip_norm = setting("clip-norm", options.clip_norm, resumed, book.optimizer.clip_norm);
  check_optimizer(o, [](std::string setting) {  // weight_decay: --weight-decay
    std::replace(setting.begin(), setting.end(), '_', '-');
    return "--" + setting;
  });
  r.schedule = parse_schedule(
      setting("lr-schedule", options.lr_schedule, resumed, schedule_text(book.schedule)), book.schedule);
  r.schedule.warmup_epochs = setting("warmup", options.warmup, resumed, book.schedule.warmup_epochs);
  if (!(r.schedule.warmup_epochs >= 0 && r.schedule.warmup_epochs < r.epochs))
    fail("--warmup must be at least 0 and under --epochs ({}), got {}", r.epochs, r.schedule.warmup_epochs);
}

}  // namespace

RunSettings resolve_settings(const TrainOptions& options) {
  const Checkpoint* resumed = options.resumed ? &*options.resumed : nullptr;
  RunSettings s;
  s.net = setting<std::string>("net", options.net, resumed, "lenet");
  s.recipe_name = setting<std::string>("recipe", options.recipe, resumed, "book");
  const Recipe book = named_recipe(find_any_net(s.net).recipe, s.recipe_name);  // or the modern one
  s.init = setting<std::string>("init", options.init, resumed, "model");
  if (s.init != "model" && s.init != "xavier") fail("--init must be model or xavier, not '{}'", s.init);
  if (options.init && !is_model_path(s.net))
    fail("--init applies to an imported --model; the built-in nets start from the book's initialisation");
  s.recipe.batch = setting("batch", options.batch, resumed, book.batch);
  s.recipe.lr = setting("lr", options.lr, resumed, book.lr);
  s.recipe.input_size = setting("resize", options.resize, resumed, book.input_size);
  // --epochs may differ from the run's: to train on
  s.recipe.epochs = options.epochs ? *options.epochs : setting<int64_t>("epochs", {}, resumed, book.epochs);
  s.seed = setting("seed", options.seed, resumed, uint64_t{0});
  s.limit = setting("limit", options.limit, resumed, int64_t{0});
  s.fusion = setting("fusion", options.fusion, resumed, true);
  s.disabled_fusions = setting("disable", options.disabled_fusions, resumed, std::vector<std::string>{});
  s.precision = parse_precision(setting<std::string>("precision", options.precision, resumed, "f32"));
  Augment& augment = s.recipe.augment;
  augment.crop_padding = setting("crop-padding", options.crop_padding, resumed, book.augment.crop_padding);
  augment.flip = setting("flip", options.flip, resumed, book.augment.flip);
  s.val = setting("val", options.val, resumed, int64_t{0});
  check_range<int64_t>("epochs", s.recipe.epochs, 1, 1000000);
  check_range<int64_t>("batch", s.recipe.batch, 1, 1 << 20);
  if (!(s.recipe.lr > 0) || !std::isfinite(s.recipe.lr))
    fail("--lr must be a positive number, got {}", s.recipe.lr);
  check_range<int64_t>("resize", s.recipe.input_size, 1, 4096);
  check_range<int64_t>("limit", s.limit, 0, int64_t{1} << 40);
  check_range<int64_t>("crop-padding", augment.crop_padding, 0, s.recipe.input_size / 2);
  resolve_optimizer(options, resumed, book, s.recipe);
  return s;
}

std::pair<Dataset, Dataset> split_validation(const Dataset& data, const RunSettings& run) {
  const int64_t used = run.limit > 0 ? std::min(run.limit, data.count) : data.count;
  check_range<int64_t>("val", run.val, 0, std::max<int64_t>(0, used - run.recipe.batch));
  return {slice(data, 0, used - run.val), slice(data, used - run.val, used)};
}

Checkpoint load_resume_checkpoint(const std::string& resume) {
  namespace fs = std::filesystem;
  if (!fs::is_directory(resume)) {
    if (!fs::exists(resume)) fail("--resume={}: there is no such run directory or checkpoint", resume);
    return load_checkpoint(resume);
  }
  const std::string path = resume + "/checkpoint.ckpt", previous = previous_checkpoint_path(path);
  if (!fs::exists(path) && !fs::exists(previous)) {
    fail(
        "no checkpoint yet: {} was stopped before its first checkpoint (one is written every "
        "--checkpoint-every, 10 minutes by default, and after each epoch); start the run again without "
        "--resume",
        resume);
  }
  try {
    return load_checkpoint(path);
  } catch (const Error& e) {
    if (!fs::exists(previous)) throw;
    std::cerr << fmt::format("stratum: {}; resuming from the checkpoint before it, {}\n", e.what(), previous);
    return load_checkpoint(previous);
  }
}

std::map<std::string, std::string> run_header(const RunSettings& settings, const RunPosition& position,
                                              const std::string& backend) {
  const EpochTotals& t = position.partial;
  std::map<std::string, std::string> header = {
      {"net", settings.net},
      {"init", settings.init},
      {"batch", to_text(settings.recipe.batch)},
      {"recipe", settings.recipe_name},
      {"lr", to_text(settings.recipe.lr)},
      {"optimizer", settings.recipe.optimizer.kind},
      {"momentum", to_text(settings.recipe.optimizer.momentum)},
      {"nesterov", to_text(settings.recipe.optimizer.nesterov)},
      {"weight-decay", to_text(settings.recipe.optimizer.weight_decay)},
      {"clip-norm", to_text(settings.recipe.optimizer.clip_norm)},
      {"lr-schedule", schedule_text(settings.recipe.schedule)},
      {"warmup", to_text(settings.recipe.schedule.warmup_epochs)},
      {"resize", to_text(settings.recipe.input_size)},
      {"epochs", to_text(settings.recipe.epochs)},
      {"seed", to_text(settings.seed)},
      {"limit", to_text(settings.limit)},
      {"crop-padding", to_text(settings.recipe.augment.crop_padding)},
      {"flip", to_text(settings.recipe.augment.flip)},
      {"val", to_text(settings.val)},
      {"fusion", to_text(settings.fusion)},
      {"disable", to_text(settings.disabled_fusions)},
      {"precision", std::string(dtype_name(settings.precision))},
      {"backend", backend},
      {"epoch", to_text(static_cast<int64_t>(position.history.size()))},
      {"step", to_text(position.step)},
      {"epoch_batches", to_text(t.batches)},
      {"epoch_totals",
       fmt::format("{},{},{},{}", t.examples, t.correct, to_text(t.loss_sum), to_text(t.seconds))},
  };
  std::string metrics;
  for (const EpochMetrics& m : position.history) metrics += (metrics.empty() ? "" : "\n") + metrics_line(m);
  header["metrics"] = metrics;
  return header;
}

RunPosition run_position(const Checkpoint& checkpoint) {
  RunPosition position;
  auto value = [&](const std::string& key) {
    auto it = checkpoint.header.find(key);
    return it == checkpoint.header.end() ? std::string() : it->second;
  };
  const std::string metrics = value("metrics");
  for (size_t start = 0; start < metrics.size();) {
    const size_t end = std::min(metrics.find('\n', start), metrics.size());
    position.history.push_back(parse_metrics(metrics.substr(start, end - start)));
    start = end + 1;
  }
  from_text(value("step"), position.step);
  if (const std::string batches = value("epoch_batches"); !batches.empty() && batches != "0") {
    EpochTotals& t = position.partial;
    from_text(batches, t.batches);
    std::vector<std::string> totals;
    from_text(value("epoch_totals"), totals);
    if (totals.size() != 4) fail("a checkpoint's epoch_totals '{}' is malformed", value("epoch_totals"));
    from_text(totals[0], t.examples);
    from_text(totals[1], t.correct);
    from_text(totals[2], t.loss_sum);
    from_text(totals[3], t.seconds);
  }
  return position;
}

}  // namespace stratum
