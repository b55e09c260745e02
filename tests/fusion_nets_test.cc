// For every classic net, the fusion pipelines rewrite as many chains as the net's layers imply, and the
// fused graphs compute what the unfused ones compute, both on the oneDNN plugin: the graphs train, bench and
// compare run (train/step.h), with inference logits (with batch-norm statistics and affine parameters far
// from their initial values, so that folding is exercised) and one training step's loss, parameter gradients
// (recovered from the SGD update) and new state.
#include <gtest/gtest.h>

#include <algorithm>
#include <iostream>
#include <random>

#include "backends/executor.h"
#include "backends/loader.h"
#include "backends/random_feeds.h"
#include "backends/reference/interpreter.h"
#include "ir/printer.h"
#include "nets/nets.h"
#include "passes/autodiff.h"
#include "passes/dce.h"
#include "passes/fusion.h"
#include "passes/pool_first.h"
#include "train/step.h"

namespace stratum {
namespace {

constexpr int64_t kBatch = 4, kSize = 96;  // the 224-pixel nets at 96 pixels keep every layer and stay quick

// Rewrites: pool_first's, in inference (1×1 conv -> avg_pool turned round) and in training (that, and relu ->
// max_pool turned round; before autodiff), then per pass, in
// fusion_pipeline() order: inference {fold_bn, fuse_residual, fuse_relu, fuse_concat_bn, merge_pointwise},
// training {fuse_conv_bn, fuse_residual, fuse_relu, recompute_bn_relu, fuse_pool_sigmoid_grad}.
struct Expected {
  std::pair<int, int> pooled_first;  // in inference, in training
  std::vector<int> inference, training;
};
const std::map<std::string, Expected> kExpected = {
    // Sigmoid activations and no batch norm: only the backward of each conv's sigmoid -> avg pool.
    {"lenet", {{0, 0}, {0, 0, 0, 0, 0}, {0, 0, 0, 0, 2}}},
    // Two conv -> batch norm (-> sigmoid, which stays): folded, or conv_bn in training; and the backward
    // of each conv's sigmoid -> avg pool.
    {"bn_lenet", {{0, 0}, {2, 0, 0, 0, 0}, {2, 0, 0, 0, 2}}},
    // A relu after each of the 5 convs and 2 hidden linear layers; in training the 3 before a max pool
    // come after it.
    {"alexnet", {{0, 3}, {0, 0, 7, 0, 0}, {0, 0, 4, 0, 0}}},
    // 8 convs and 2 hidden linear layers; each of the 5 blocks ends in a max pool.
    {"vgg11", {{0, 5}, {0, 0, 10, 0, 0}, {0, 0, 5, 0, 0}}},
    {"vgg11_4", {{0, 5}, {0, 0, 10, 0, 0}, {0, 0, 5, 0, 0}}},
    // 4 NiN blocks of 3 convs, the first 3 followed by a max pool.
    {"nin", {{0, 3}, {0, 0, 12, 0, 0}, {0, 0, 9, 0, 0}}},
    // 3 stem convs and 9 inceptions of 6 convs; the stem's two max pools follow a relu; in inference each
    // inception's three 1×1 convs of its input become one.
    {"googlenet", {{0, 2}, {0, 0, 57, 0, 9}, {0, 0, 55, 0, 0}}},
    // 17 conv -> BN; 8 residual adds, each taking a conv (inference) or, in training, the 3 downsampling
    // blocks' shortcut convs; relus: the stem's, each block's first and each add's; in training the stem's
    // comes after its max pool, and each block's first conv_bn relu (8) is recomputed for the backward.
    {"resnet18", {{0, 1}, {17, 8, 17, 0, 0}, {17, 3, 8, 8, 0}}},
    // The stem's conv -> BN -> relu (in training, the relu after the max pool); 16 dense layers, 3
    // transitions and the head are BN -> relu (-> conv); each transition's 1×1 conv comes after its average
    // pool, and in training the 16 BN -> relus a conv reads are recomputed. In inference the 16 of them that
    // read a concat (all but each block's first layer) read its parts.
    {"densenet", {{3, 4}, {1, 0, 21, 16, 0}, {1, 0, 20, 16, 0}}},
    // The stem and 10 blocks of 3 conv -> BN, and 2 shortcut conv -> BN; a relu after the stem, 2 per block
    // and after each add.
    {"regnetx32", {{0, 0}, {33, 10, 31, 0, 0}, {33, 0, 10, 21, 0}}},
};

class Fusion : public ::testing::TestWithParam<std::string> {};

std::vector<int> rewrites(Graph& graph, bool training) {
  std::vector<int> counts;
  for (const PassRecord& pass : fusion_manager(training).run(graph).passes) counts.push_back(pass.rewrites);
  return counts;
}

// As build_step: pool_first on the forward graph (max pools in training only), in training autodiff; then
// the fusion pipeline.
TEST_P(Fusion, RewritesWhatTheLayersImply) {
  const NetDef& net = find_net(GetParam());
  auto inference = build_net(net, 1, /*training=*/false, kSize);
  PoolFirstPass inference_pool_first(/*max_pools=*/false);
  inference_pool_first.run(*inference);
  EXPECT_EQ(inference_pool_first.rewrites(), kExpected.at(net.name).pooled_first.first) << "pool_first";
  EXPECT_EQ(rewrites(*inference, false), kExpected.at(net.name).inference);
  auto step = build_net(net, 2, /*training=*/true, kSize);
  PoolFirstPass pool_first;
  pool_first.run(*step);
  EXPECT_EQ(pool_first.rewrites(), kExpected.at(net.name).pooled_first.second) << "pool_first";
  build_training_step(*step);
  DcePass().run(*step);
  EXPECT_EQ(rewrites(*step, true), kExpected.at(net.name).training);
}

bool ends_with(const std::string& name, const std::string& suffix) {
  return name.size() >= suffix.size() &&
         name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Batch-norm statistics and affine parameters drawn away from 0 and 1.
void perturb_batch_norms(Store& store) {
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<float> uniform(0.5f, 1.5f);
  for (auto& [name, tensor] : store) {
    const bool scale = ends_with(name, ".gamma") || ends_with(name, ".running_var");
    if (!scale && !ends_with(name, ".beta") && !ends_with(name, ".running_mean")) continue;
    for (int64_t i = 0; i < tensor.size(); ++i) tensor.f32()[i] = scale ? uniform(rng) : uniform(rng) - 1;
  }
}

std::vector<Tensor> run(const Graph& graph, const Store& state, const std::map<std::string, Tensor>& feeds,
                        Store* after = nullptr) {
  Executor executor(graph, load_plugin("onednn"));
  executor.load_state(state);
  executor.run(feeds);
  if (after) *after = executor.save_state();
  return executor.outputs();
}

// The graph build_step makes for the oneDNN plugin, unfused and fused. A training step's unfused graph is
// pool_first's: turned round, DenseNet's 1×1 convs and average pools round differently, and some of its
// gradients are rounding alone (its conv biases, whose outputs reach training batch norms through concats;
// its stem's batch-norm gamma, 1/400 of its beta), which no two roundings agree on; pool_first_test checks
// the turn's training step, and the inference graphs here check it on every net.
std::pair<std::unique_ptr<Graph>, std::unique_ptr<Graph>> unfused_and_fused(const NetDef& net,
                                                                            bool training) {
  // Inference at batch 1, where merge_pointwise merges.
  const int64_t batch = training ? kBatch : 1;
  StepSpec spec{.net = &net, .batch = batch, .size = kSize, .training = training, .logits = !training};
  const std::vector<const stratum_plugin*> plugins = {&load_plugin("onednn")};
  auto fused = build_step(spec, plugins);
  if (training) {
    spec.disabled_fusions = fusion_pipeline(training);
  } else {
    spec.fusion = false;
  }
  return {build_step(spec, plugins), std::move(fused)};
}

TEST_P(Fusion, InferenceAgrees) {
  const NetDef& net = find_net(GetParam());
  auto [unfused, fused] = unfused_and_fused(net, /*training=*/false);
  Store state = init_store(*unfused, 3);
  perturb_batch_norms(state);
  const auto feeds = random_feeds(*unfused, 7);
  const auto want = run(*unfused, state, feeds), got = run(*fused, state, feeds);
  const double error = nmse(got[2], want[2]);
  EXPECT_LT(error, 1e-9) << "logits";
  EXPECT_EQ(got[1].i32()[0], want[1].i32()[0]) << "correct";
  std::cout << net.name << ": inference logits nMSE " << error << "\n";
}

double mean_square(const Tensor& t) {
  double sum = 0;
  for (int64_t i = 0; i < t.size(); ++i) sum += double(t.f32()[i]) * t.f32()[i];
  return sum / std::max<int64_t>(t.size(), 1);
}

// Each param's gradient, recovered from the step's update of it: (p - p_new) / lr.
std::map<std::string, Tensor> gradients(const Graph& graph, const Store& before, const Store& after,
                                        double lr) {
  std::map<std::string, Tensor> grads;
  for (const Value* param : graph.leaves_of(ValueKind::kParam)) {
    const Tensor &p = before.at(param->name()), &p_new = after.at(param->name());
    Tensor& grad = grads.emplace(param->name(), Tensor(p.type())).first->second;
    for (int64_t i = 0; i < p.size(); ++i)
      grad.f32()[i] = static_cast<float>((p.f32()[i] - p_new.f32()[i]) / lr);
  }
  return grads;
}

// The mean square below which a gradient's error is measured against that floor instead. A conv bias's
// gradient is zero but for rounding when a training batch norm follows (it takes the mean away), so two
// correct computations agree there only to the rounding of that batch norm's beta gradient, the floor then.
double gradient_floor(const Graph& graph, const std::string& param,
                      const std::map<std::string, Tensor>& want) {
  const Value* bias = graph.find(param);
  for (const Node* conv : bias->users()) {
    if (conv->op_name() != "conv2d" || conv->input(2) != bias) continue;
    for (const Node* bn : conv->output()->users()) {
      if (bn->op_name() == "batch_norm" && bn->attr_bool("training"))
        return mean_square(want.at(bn->input(2)->name()));
    }
  }
  return 1e-12;
}

// The batch norms recompute_bn_relu added to the backward.
int recomputed(const Graph& graph) {
  return std::count_if(graph.nodes().begin(), graph.nodes().end(),
                       [](const auto& node) { return node->backward() && node->op_name() == "batch_norm"; });
}

TEST_P(Fusion, TrainingStepAgrees) {
  const NetDef& net = find_net(GetParam());
  auto [unfused, fused] = unfused_and_fused(net, /*training=*/true);
  if (net.name != "lenet") {
    EXPECT_NE(print_graph(*fused), print_graph(*unfused)) << "nothing was fused";
  }
  EXPECT_EQ(recomputed(*fused), kExpected.at(net.name).training[3]) << "recompute_bn_relu";
  const Store state = init_store(*unfused, 3);
  const auto feeds = random_feeds(*unfused, 7);
  Store want_state, got_state;
  const auto want = run(*unfused, state, feeds, &want_state), got = run(*fused, state, feeds, &got_state);
  EXPECT_NEAR(got[0].f32()[0], want[0].f32()[0], 1e-5 * std::abs(want[0].f32()[0])) << "loss";
  const auto want_grads = gradients(*unfused, state, want_state, net.recipe.lr),
             got_grads = gradients(*unfused, state, got_state, net.recipe.lr);
  double worst = 0;
  for (const auto& [name, grad] : want_grads) {
    const double error = nmse(got_grads.at(name), grad, gradient_floor(*unfused, name, want_grads));
    EXPECT_LT(error, 1e-8) << name << ".grad";
    worst = std::max(worst, error);
  }
  // The gradients agree to 1e-8, and a conv bias before a batch norm moves by rounding alone: the new state
  // agrees to that too (bit for bit on the nets whose fusion keeps rounding).
  for (const auto& [name, tensor] : want_state) EXPECT_LT(nmse(got_state.at(name), tensor), 1e-8) << name;
  std::cout << net.name << ": training step's worst gradient nMSE " << worst << "\n";
}

INSTANTIATE_TEST_SUITE_P(Nets, Fusion,
                         ::testing::Values("lenet", "bn_lenet", "alexnet", "vgg11", "vgg11_4", "nin",
                                           "googlenet", "resnet18", "densenet", "regnetx32"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace stratum
