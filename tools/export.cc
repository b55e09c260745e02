// export: a net's inference graph and weights as an ONNX model (onnx/export.h), for ONNX Runtime and other
// tools.
//   bazel run //tools:export -- --net=resnet18 [--checkpoint=RUN_DIR|FILE] [--fusion=false]
//   --out=resnet18.onnx
// With --reference-out=PREFIX it also writes a fixed input batch and Stratum's logits for it, computed on the
// reference backend, for bench/ort_check.js: PREFIX.json (shapes and file names), PREFIX.input.f32 and
// PREFIX.logits.f32 (raw little-endian f32).
#include <fmt/format.h>

#include <filesystem>
#include <iostream>
#include <optional>
#include <random>

#include "ir/error.h"
#include "onnx/export.h"
#include "onnx/model_nets.h"
#include "tools/flags.h"
#include "train/files.h"
#include "train/run_state.h"
#include "train/step.h"

namespace stratum {
namespace {

namespace fs = std::filesystem;

// The checkpoint --checkpoint names (a run directory or a .ckpt file); errors name the flag.
Checkpoint load_checkpoint_flag(const std::string& path) {
  if (!fs::exists(path)) fail("--checkpoint={}: there is no such run directory or checkpoint file", path);
  try {
    return load_resume_checkpoint(path);
  } catch (const Error& e) {
    fail("--checkpoint={}: {}", path, e.what());
  }
}

// The checkpoint's net; --net, when given, must agree.
const NetDef& checkpoint_net(const Checkpoint& checkpoint, const Flags& flags) {
  auto it = checkpoint.header.find("net");
  if (it == checkpoint.header.end())
    fail("--checkpoint={}: the checkpoint names no net", flags.get("checkpoint"));
  if (flags.is_set("net") && flags.get("net") != it->second) {
    fail("--net={} but the checkpoint is of {}; leave --net out or give --net={}", flags.get("net"),
         it->second, it->second);
  }
  return find_any_net(it->second);  // a built-in net, or the ONNX model a run was trained from
}

// --size, else the size the checkpoint's run trained at, else the recipe's.
int64_t input_size(const Flags& flags, const NetDef& net, const Checkpoint* checkpoint) {
  if (flags.is_set("size")) return flags.get_int_in("size", 1, 4096);
  if (checkpoint != nullptr && checkpoint->header.count("resize"))
    return std::stoll(checkpoint->header.at("resize"));
  return net.recipe.input_size;
}

// A fixed batch of the input's type: pixels uniform in [0,1), as Fashion-MNIST's scaled ones, from `seed`.
Tensor reference_input(const TensorType& type, uint64_t seed) {
  Tensor x(type);
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> pixel(0, 1);
  for (int64_t i = 0; i < x.size(); ++i) x.f32()[i] = pixel(rng);
  return x;
}

std::string raw_bytes(const Tensor& tensor) {
  return std::string(static_cast<const char*>(tensor.data()), static_cast<size_t>(tensor.type().bytes()));
}

// Runs the graph on the reference backend for a fixed batch and writes the batch, the logits and
// PREFIX.json naming them and the model (paths relative to the JSON's folder).
void write_reference(const Graph& graph, Store store, const std::string& model, const std::string& prefix,
                     uint64_t seed) {
  std::map<std::string, Tensor> feeds;
  for (const Value* input : graph.leaves_of(ValueKind::kInput)) feeds[input->name()] = Tensor(input->type());
  const Tensor& x = feeds["x"] = reference_input(graph.find("x")->type(), seed);
  Interpreter interpreter(graph);
  interpreter.run(feeds, store);
  const Tensor& logits = interpreter.value(logits_of(graph));
  write_file_atomically(prefix + ".input.f32", raw_bytes(x));
  write_file_atomically(prefix + ".logits.f32", raw_bytes(logits));
  const fs::path folder = fs::absolute(prefix).parent_path();
  const auto relative = [&](const std::string& path) {
    return fs::relative(fs::absolute(path), folder).string();
  };
  write_file_atomically(
      prefix + ".json",
      fmt::format(
          "{{\"net\": \"{}\", \"onnx\": \"{}\", \"input\": \"{}\", \"input_shape\": [{}], \"logits\": "
          "\"{}\", \"logits_shape\": [{}]}}\n",
          graph.name(), relative(model), relative(prefix + ".input.f32"), fmt::join(x.shape(), ", "),
          relative(prefix + ".logits.f32"), fmt::join(logits.shape(), ", ")));
  std::cout << fmt::format(
      "wrote {0}.json, {0}.input.f32 and {0}.logits.f32 (reference logits of {1} for a "
      "batch of {2})\n",
      prefix, graph.name(), x.shape()[0]);
}

int run(int argc, char** argv) {
  Flags flags(
      "usage: export --out=FILE.onnx [--net=NAME] [--checkpoint=RUN_DIR|FILE] [--fusion=true|false] [flags]\n"
      "Writes the net's inference graph and weights as an ONNX model (opset 17): input x [N,1,H,W], output\n"
      "logits [N,10]. The weights are the checkpoint's (whose net --net must then be, if given), else the\n"
      "seeded initialisation.");
  flags.add("net", "lenet", "the net (bazel run //tools:opt -- --net=list), or the checkpoint's");
  flags.add("checkpoint", "",
            "a run directory (its checkpoint.ckpt) or a .ckpt file to take the weights from");
  flags.add("fusion", "true", "export the fused inference graph (fused ops become the ONNX ops they fuse)");
  flags.add("seed", "0", "the initialisation's seed without --checkpoint, and the reference batch's");
  flags.add("size", "", "the input's height and width (default: the checkpoint's run's, else the recipe's)");
  flags.add("batch", "8", "the batch of the reference input (the model's batch dim is symbolic)");
  flags.add("out", "", "the .onnx file to write");
  flags.add("reference-out", "", "also write PREFIX.json, PREFIX.input.f32 and PREFIX.logits.f32");
  flags.parse(argc, argv);
  check_no_positional(flags);
  if (flags.get("out").empty()) fail("--out is required: the .onnx file to write");
  const uint64_t seed = static_cast<uint64_t>(flags.get_int_in("seed", 0, INT64_MAX));

  std::optional<Checkpoint> checkpoint;
  if (!flags.get("checkpoint").empty()) checkpoint = load_checkpoint_flag(user_path(flags.get("checkpoint")));
  const NetDef& net = checkpoint ? checkpoint_net(*checkpoint, flags) : find_net(flags.get("net"));
  const StepSpec spec{.net = &net,
                      .batch = flags.get_int_in("batch", 1, 1 << 16),
                      .size = input_size(flags, net, checkpoint ? &*checkpoint : nullptr),
                      .training = false,
                      .fusion = flags.get_bool("fusion")};
  const auto graph = build_step(spec, {});
  const Store store = checkpoint ? checkpoint->tensors : init_store(*graph, seed);

  const onnx::ModelProto model = export_onnx(*graph, store);
  check_onnx(model);
  const std::string out = user_path(flags.get("out"));
  const int64_t bytes = write_onnx(model, out);
  std::cout << fmt::format("wrote {}: {} {}×{} {}, {} nodes, {} initializers, {} bytes, weights from {}\n",
                           out, net.name, spec.size, spec.size, spec.fusion_name(), model.graph().node_size(),
                           model.graph().initializer_size(), bytes,
                           checkpoint ? flags.get("checkpoint") : fmt::format("--seed={}", seed));
  if (!flags.get("reference-out").empty())
    write_reference(*graph, store, out, user_path(flags.get("reference-out")), seed);
  return 0;
}

}  // namespace
}  // namespace stratum

int main(int argc, char** argv) { return stratum::run_tool(argc, argv, stratum::run); }
