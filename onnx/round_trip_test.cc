// Export then import: every built-in net, written as ONNX by Stratum and read back, computes the same logits
// as the net itself, on oneDNN (the fused graph exported, the imported one fused again).
#include <gtest/gtest.h>

#include <random>

#include "backends/executor.h"
#include "backends/loader.h"
#include "backends/testing.h"
#include "onnx/export.h"
#include "onnx/model_nets.h"
#include "train/step.h"

namespace stratum {
namespace {

constexpr int64_t kBatch = 2;

Tensor logits(const NetDef& net, const Store& weights, const Tensor& x, const stratum_plugin& plugin) {
  StepSpec spec{&net, kBatch, 0, /*training=*/false};
  spec.logits = true;
  const auto graph = build_step(spec, {&plugin});
  Executor executor(*graph, plugin);
  executor.load_state(weights);
  executor.run({{"x", x}, {"labels", Tensor({DType::i32, {kBatch}})}});
  return executor.outputs()[2];
}

TEST(OnnxRoundTrip, EveryNetExportedAndImportedGivesItsOwnLogits) {
  const stratum_plugin& plugin = load_plugin("onednn");
  for (const NetDef& net : all_nets()) {
    if (net.name == "vgg11") continue;  // vgg11_4 is the same net, narrower (and 3× faster)
    const auto graph = build_step({&net, kBatch, 0, /*training=*/false}, {&plugin});
    const Store weights = init_store(*graph, 3);
    const std::string path = testing::temp_path(net.name + ".onnx");
    write_onnx(export_onnx(*graph, weights), path);

    const NetDef& imported = find_any_net(path);
    Store imported_weights = init_store(*build_step({&imported, kBatch, 0, false}, {&plugin}), 0);
    use_model_weights(imported, imported_weights);
    const int64_t size = net.recipe.input_size;
    Tensor x({DType::f32, {kBatch, 1, size, size}});
    std::mt19937 random(1);
    for (int64_t i = 0; i < x.size(); ++i) x.f32()[i] = std::uniform_real_distribution<float>(0, 1)(random);
    const Tensor want = logits(net, weights, x, plugin), got = logits(imported, imported_weights, x, plugin);
    EXPECT_LT(nmse(got, want), 1e-10) << net.name;
    std::printf("%-10s nmse %.3g\n", net.name.c_str(), nmse(got, want));
  }
}

}  // namespace
}  // namespace stratum
