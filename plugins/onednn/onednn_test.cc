// The oneDNN plugin against the reference backend, both through the plugin ABI: single ops, subgraphs where
// values pass between primitives in blocked layouts, and whole training steps as one subgraph. Outputs must
// agree by normalised MSE (f32) or exactly (i32).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <map>
#include <random>
#include <string>

#include "backends/executor.h"
#include "backends/loader.h"
#include "backends/random_feeds.h"
#include "backends/reference/interpreter.h"
#include "backends/reference/plugin.h"
#include "backends/subgraph.h"
#include "backends/tensor.h"
#include "ir/builder.h"
#include "ir/op.h"
#include "ir/parser.h"
#include "passes/autodiff.h"
#include "passes/memory_plan.h"
#include "tests/test_nets.h"

namespace stratum {
namespace {

TensorType f32(Shape shape) { return {DType::f32, std::move(shape)}; }

const stratum_plugin& onednn() { return load_plugin("onednn"); }

// Whether /proc/cpuinfo lists the CPU flag.
bool cpu_flag(const std::string& flag) {
  std::ifstream cpuinfo("/proc/cpuinfo");
  for (std::string word; cpuinfo >> word;) {
    if (word == flag) return true;
  }
  return false;
}

using Feeds = std::map<std::string, Tensor>;  // by value name

// The graph's outputs and update values: what a subgraph of all its nodes must hand back.
std::vector<const Value*> results(const Graph& graph) {
  std::vector<const Value*> values(graph.outputs().begin(), graph.outputs().end());
  for (const Update& update : graph.updates()) values.push_back(update.value);
  return values;
}

// One compiled subgraph of every node of a graph on one plugin, with its args allocated by the plugin.
class Compiled {
 public:
  Compiled(const stratum_plugin& plugin, const Graph& graph) : plugin_(plugin) {
    std::vector<const Node*> nodes;
    for (const auto& node : graph.nodes()) nodes.push_back(node.get());
    const std::vector<const Value*> needed = results(graph);
    desc_ = std::make_unique<SubgraphDesc>(
        nodes, [&](const Value* v) { return std::find(needed.begin(), needed.end(), v) != needed.end(); });
    for (const Value* arg : desc_->args())
      args_.push_back(plugin.alloc(std::max<int64_t>(arg->type().bytes(), 1)));
    program_ = plugin.compile(&desc_->subgraph());
  }
  ~Compiled() {
    if (program_) plugin_.release(program_);
    for (void* arg : args_) plugin_.free(arg);
  }

  stratum_program* program() const { return program_; }
  const SubgraphDesc& desc() const { return *desc_; }

  // Copies the inputs in and runs; returns the plugin's status.
  int run_status(const Feeds& feeds) {
    for (int32_t i = 0; i < desc_->subgraph().n_inputs; ++i) {
      const Tensor& t = feeds.at(desc_->args()[i]->name());
      plugin_.copy_from_host(args_[i], t.data(), t.type().bytes());
    }
    return plugin_.run(program_, args_.data(), static_cast<int32_t>(args_.size()));
  }

  // Runs and returns the output args; an error is a test failure.
  std::vector<Tensor> run(const Feeds& feeds) {
    if (run_status(feeds) != 0) ADD_FAILURE() << plugin_.name << ": " << plugin_.last_error();
    const stratum_subgraph& g = desc_->subgraph();
    std::vector<Tensor> outputs;
    for (int32_t i = g.n_inputs; i < g.n_args; ++i) {
      Tensor& t = outputs.emplace_back(desc_->args()[i]->type());
      plugin_.copy_to_host(t.data(), args_[i], t.type().bytes());
    }
    return outputs;
  }

 private:
  const stratum_plugin& plugin_;
  std::unique_ptr<SubgraphDesc> desc_;
  std::vector<void*> args_;
  stratum_program* program_ = nullptr;
};

// Feeds for every leaf of the graph not already in `feeds`: f32 uniform in [-1,1), i32 in [0,3) (below
// every test's class count; a dropout key can be anything).
Feeds complete_feeds(const Graph& graph, Feeds feeds, uint64_t seed = 7) {
  std::mt19937_64 rng(seed);
  for (const Value* leaf : graph.leaves()) {
    if (!feeds.count(leaf->name())) feeds[leaf->name()] = random_tensor(leaf->type(), rng, /*classes=*/3);
  }
  return feeds;
}

Tensor positive(const Shape& shape, uint64_t seed = 3) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> uniform(0.5, 1.5);
  Tensor t(f32(shape));
  for (int64_t i = 0; i < t.size(); ++i) t.f32()[i] = uniform(rng);
  return t;
}

// Runs every node of `graph` as one subgraph on the oneDNN plugin (twice, to catch state that leaks from
// one run into the next) and on the reference, and expects the same results.
void expect_matches_reference(const Graph& graph, const Feeds& given = {}, double tolerance = 1e-8) {
  const Feeds feeds = complete_feeds(graph, given);
  Compiled expected(reference_plugin(), graph), actual(onednn(), graph);
  ASSERT_NE(actual.program(), nullptr) << onednn().last_error();
  ASSERT_NE(expected.program(), nullptr) << reference_plugin().last_error();
  const std::vector<Tensor> want = expected.run(feeds);
  actual.run(feeds);
  const std::vector<Tensor> got = actual.run(feeds);
  ASSERT_EQ(got.size(), want.size());
  const stratum_subgraph& g = actual.desc().subgraph();
  for (size_t i = 0; i < got.size(); ++i) {
    const Value* value = actual.desc().args()[g.n_inputs + i];
    const std::string what = value->producer()->label() + " output " + std::to_string(value->output_index());
    if (value->type().dtype == DType::i32) {
      EXPECT_EQ(std::vector<int32_t>(got[i].i32(), got[i].i32() + got[i].size()),
                std::vector<int32_t>(want[i].i32(), want[i].i32() + want[i].size()))
          << what;
    } else {
      // Σ(got-want)² / Σwant², about 1e-14 for f32 rounding differences; Σwant² at least 1e-30 in all, so
      // that an output the reference computes as all zeros must be all zeros.
      EXPECT_LE(nmse(got[i], want[i], 1e-30 / double(want[i].size())), tolerance) << what;
    }
  }
}

// A graph to fill in, with the builder and a helper to add any node (backward ones included).
struct TestGraph {
  Value* input(const std::string& name, Shape shape) { return graph.add_input(name, f32(std::move(shape))); }
  Value* op(std::string_view op, std::vector<Value*> inputs, Attrs attrs = {}) {
    return graph.add_node(op, std::move(inputs), std::move(attrs))->output(0);
  }
  void outputs(std::initializer_list<Value*> values) {
    for (Value* v : values) graph.add_output(v);
  }
  Graph graph;
  Builder b{graph};
};

TEST(OnednnPlugin, DescribesItself) {
  const stratum_plugin& plugin = onednn();
  EXPECT_EQ(plugin.abi_version, STRATUM_PLUGIN_ABI_VERSION);
  EXPECT_STREQ(plugin.name, "onednn");
  EXPECT_STREQ(plugin.device_kind, "cpu");
  EXPECT_NE(std::string(plugin.description).find("oneDNN 2.6"), std::string::npos) << plugin.description;
  EXPECT_NE(std::string(plugin.description).find("threads"), std::string::npos) << plugin.description;
  EXPECT_NE(plugin.node_times, nullptr);
  void* p = plugin.alloc(100);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % 64, 0u);
  plugin.free(p);
}

// bf16 where the CPU has AVX512-BF16 and the op's primitives take it; f16 never.
TEST(OnednnPlugin, SupportsEveryOpOnF32AndI32AndSomeOnBf16) {
  stratum_tensor_desc values[3] = {to_desc(f32({2, 3})), to_desc({DType::bf16, {2, 3}}),
                                   to_desc({DType::f16, {2, 3}})};
  const int32_t f32_value = 0, bf16_value = 1, f16_value = 2;
  for (const OpDef* op : all_ops()) {
    if (op->name == "avg_pool_sigmoid_grad") continue;  // needs its window: below
    stratum_node node{};
    node.op = op->name.c_str();
    node.n_inputs = 1;
    node.inputs = &f32_value;
    EXPECT_TRUE(onednn().supports(&node, values, 2)) << op->name;
    EXPECT_FALSE(onednn().supports(&node, values, 0)) << op->name << ": value 0 is past n_values";
    node.inputs = &f16_value;
    EXPECT_FALSE(onednn().supports(&node, values, 3)) << op->name;
  }
  const bool cpu_has_bf16 = cpu_flag("avx512_bf16");
  for (const char* op : {"cast", "conv2d", "conv_bn_grad", "linear_grad_weight", "batch_norm", "max_pool"}) {
    stratum_node node{};
    node.op = op, node.n_inputs = 1, node.inputs = &bf16_value;
    EXPECT_EQ(onednn().supports(&node, values, 3), cpu_has_bf16) << op;
  }
  for (const char* op : {"softmax_cross_entropy", "sgd_update", "fold_batch_norm"}) {
    stratum_node node{};
    node.op = op, node.n_inputs = 1, node.inputs = &bf16_value;
    EXPECT_FALSE(onednn().supports(&node, values, 3)) << op << ": a loop over f32";
  }
  stratum_node unknown{};
  unknown.op = "no_such_op";
  EXPECT_FALSE(onednn().supports(&unknown, values, 2));
}

// Its loop takes only windows that tile the input.
TEST(OnednnPlugin, SupportsAvgPoolSigmoidGradWhereTheWindowsTile) {
  const stratum_tensor_desc values[1] = {to_desc(f32({2, 3, 4, 4}))};
  const int32_t inputs[2] = {0, 0};
  for (const auto& [kernel, padding, tiles] : {std::tuple{2, 0, true}, {3, 0, false}, {2, 1, false}}) {
    const int64_t k[2] = {kernel, kernel}, s[2] = {2, 2}, p[2] = {padding, padding};
    const stratum_attr attrs[3] = {{"kernel", STRATUM_ATTR_INTS, 0, 0, k, 2, nullptr},
                                   {"stride", STRATUM_ATTR_INTS, 0, 0, s, 2, nullptr},
                                   {"padding", STRATUM_ATTR_INTS, 0, 0, p, 2, nullptr}};
    stratum_node node{};
    node.op = "avg_pool_sigmoid_grad";
    node.n_inputs = 2;
    node.inputs = inputs;
    node.n_attrs = 3;
    node.attrs = attrs;
    EXPECT_EQ(onednn().supports(&node, values, 1), tiles) << "kernel " << kernel << " padding " << padding;
  }
}

struct ConvCase {
  Shape x, w;
  ConvAttrs attrs;
  bool bias;
};

class Conv : public ::testing::TestWithParam<ConvCase> {};

// conv2d, then conv2d_grad_input, conv2d_grad_weight and bias_grad of one dy as autodiff emits them (the
// bias gradient comes from the weight gradient's primitive).
TEST_P(Conv, ForwardAndGradientsMatchReference) {
  const ConvCase& c = GetParam();
  TestGraph t;
  Value *x = t.input("x", c.x), *w = t.input("w", c.w);
  Value* y = t.b.conv2d(x, w, c.bias ? t.input("bias", {c.w[0]}) : nullptr, c.attrs);
  Value* dy = t.input("dy", y->type().shape);
  Attrs input_attrs = y->producer()->attrs();
  input_attrs.erase("relu");
  Attrs weight_attrs = input_attrs;
  input_attrs["input_shape"] = c.x;
  weight_attrs["weight_shape"] = c.w;
  t.outputs({y, t.op("conv2d_grad_input", {dy, w}, input_attrs),
             t.op("conv2d_grad_weight", {dy, x}, weight_attrs), t.op("bias_grad", {dy})});
  expect_matches_reference(t.graph);
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, Conv,
    ::testing::Values(
        ConvCase{{2, 3, 9, 9}, {8, 3, 3, 3}, {.stride = {2, 2}, .padding = {1, 1}}, true},
        ConvCase{{2, 16, 7, 7}, {32, 16, 3, 3}, {}, true},
        ConvCase{{2, 8, 10, 10}, {8, 4, 3, 3}, {.padding = {2, 2}, .dilation = {2, 2}, .groups = 2}, true},
        ConvCase{{1, 32, 6, 5}, {32, 1, 3, 3}, {.stride = {2, 1}, .padding = {1, 0}, .groups = 32}, false},
        ConvCase{{3, 4, 8, 8}, {6, 4, 1, 1}, {.stride = {2, 2}}, true},
        ConvCase{{2, 6, 9, 9}, {16, 6, 5, 5}, {}, true},  // weight gradient channels-last (LeNet's conv2)
        // Our own kernels (direct_conv.cc): LeNet's conv1; rows of two 32-column chunks, 7 taps a row (two
        // groups of 5), 8 outputs (tiles of 3, 3, 2); a padding larger than the kernel needs.
        ConvCase{{2, 1, 28, 28}, {6, 1, 5, 5}, {.padding = {2, 2}}, true},
        ConvCase{{3, 2, 7, 40}, {8, 2, 3, 7}, {.padding = {1, 3}}, false},
        ConvCase{{1, 3, 6, 6}, {1, 3, 2, 2}, {.padding = {3, 0}}, true},
        // The data gradient, images in lanes: two blocks, the second of 3; channel tiles of 6 and 2; 4-column
        // tiles, the last overlapping.
        ConvCase{{19, 8, 6, 5}, {5, 8, 3, 2}, {.padding = {1, 0}}, false},
        // One image, small planes (single_image_conv.cc): 3×3 at stride 2; 7×5 of one pair of output blocks
        // (tiles of 11, 12 and 12 on one thread; on two, of 8 and 9 shared by the threads); dilated.
        ConvCase{{1, 32, 5, 5}, {48, 32, 3, 3}, {.stride = {2, 2}, .padding = {1, 1}}, true},
        ConvCase{{1, 16, 7, 7}, {32, 16, 3, 3}, {.padding = {1, 0}}, false},
        ConvCase{{1, 16, 6, 6}, {16, 16, 3, 2}, {.padding = {2, 1}, .dilation = {2, 3}}, true},
        // One image, 3×3 by rows: rows of 13 (tiles of 6 and 7) of a pair and a single output block; rows
        // of 8 (one tile, both edges); rows of 24 (two tiles of 12); 6×6; at stride 2, rows of 12 (whose last
        // tap is x's last column) and of 13 (the padding); in groups of 16 channels, at stride 1 and 2.
        ConvCase{{1, 32, 9, 13}, {48, 32, 3, 3}, {.padding = {1, 1}}, true},
        ConvCase{{1, 16, 5, 8}, {16, 16, 3, 3}, {.padding = {1, 1}}, false},
        ConvCase{{1, 48, 24, 24}, {32, 48, 3, 3}, {.padding = {1, 1}}, true},
        ConvCase{{1, 32, 6, 6}, {32, 32, 3, 3}, {.padding = {1, 1}}, false},
        ConvCase{{1, 32, 13, 12}, {32, 32, 3, 3}, {.stride = {2, 2}, .padding = {1, 1}}, true},
        ConvCase{{1, 16, 9, 13}, {48, 16, 3, 3}, {.stride = {2, 2}, .padding = {1, 1}}, false},
        ConvCase{{1, 48, 7, 9}, {48, 16, 3, 3}, {.padding = {1, 1}, .groups = 3}, true},
        ConvCase{{1, 32, 9, 12}, {32, 16, 3, 3}, {.stride = {2, 2}, .padding = {1, 1}, .groups = 2}, false},
        ConvCase{{2, 32, 32, 32},
                 {48, 32, 3, 3},
                 {.padding = {1, 1}},
                 true}));  // Winograd: 2,048 outputs a channel

// One image's conv adds the bias, then the residual, then applies relu: of a small plane (unfolded) and by
// rows (rows of 9).
TEST(Conv, SingleImageAddsBiasThenResidualThenRelu) {
  for (const int64_t width : {4, 9}) {
    TestGraph t;
    Value* x = t.input("x", {1, 32, 4, width});
    t.outputs({t.op("conv2d",
                    {x, t.input("w", {16, 32, 3, 3}), t.input("bias", {16}), t.input("r", {1, 16, 4, width})},
                    {{"padding", Ints{1, 1}}, {"relu", true}})});
    expect_matches_reference(t.graph);
  }
}

// bf16 weight gradients of small output planes (3×3 here, a matmul with AMX or without: conv.cc) are one
// matmul, the bias gradient on the way: as the reference computes them (in f32, rounded to bf16), within
// bf16's rounding.
TEST(Conv, Bf16WeightGradientOfSmallPlanesMatchesReference) {
  if (!cpu_flag("avx512_bf16")) GTEST_SKIP() << "the CPU lacks AVX512-BF16";
  for (const ConvCase& c :
       {ConvCase{{4, 32, 3, 3}, {48, 32, 3, 3}, {.padding = {1, 1}}, true},
        ConvCase{{2, 16, 5, 5}, {24, 16, 3, 3}, {.stride = {2, 2}, .padding = {1, 1}}, true},
        ConvCase{{2, 8, 6, 6}, {16, 8, 1, 1}, {.stride = {2, 2}}, false}}) {
    TestGraph t;
    auto side = [&](int i) {
      return (c.x[2 + i] + 2 * c.attrs.padding[i] - c.w[2 + i]) / c.attrs.stride[i] + 1;
    };
    const Shape y = {c.x[0], c.w[0], side(0), side(1)};
    Value *x = t.graph.add_input("x", {DType::bf16, c.x}), *dy = t.graph.add_input("dy", {DType::bf16, y});
    Attrs attrs = {{"stride", c.attrs.stride}, {"padding", c.attrs.padding}, {"weight_shape", c.w}};
    t.outputs({t.op("conv2d_grad_weight", {dy, x}, attrs)});
    if (c.bias) t.outputs({t.op("bias_grad", {dy})});
    expect_matches_reference(t.graph, {}, 1e-5);
  }
}

TEST(BiasGrad, WithoutAWeightGradientSumsInALoop) {
  TestGraph t;
  t.outputs({t.op("bias_grad", {t.input("dy", {4, 5, 3, 3})}), t.op("bias_grad", {t.input("dz", {6, 7})})});
  expect_matches_reference(t.graph);
}

// A conv's blocked output through batch norm, relu and a residual add, then out plain.
TEST(Subgraph, ConvBatchNormReluAddStayBlocked) {
  TestGraph t;
  Value* x = t.input("x", {4, 16, 6, 6});
  Value* h = t.b.conv2d(x, t.input("w", {16, 16, 3, 3}), t.input("bias", {16}), {.padding = {1, 1}});
  BatchNormOutputs bn = t.b.batch_norm(h, t.input("gamma", {16}), t.input("beta", {16}),
                                       t.input("mean", {16}), t.input("var", {16}));
  t.outputs({t.b.relu(t.b.add(bn.y, x)), bn.new_running_mean, bn.new_running_var});
  expect_matches_reference(t.graph, {{"var", positive({16})}});
}

// A node that writes its result over a dying input must not when the input's memory is also another
// value's, read later: an inference dropout (the identity) or a reshape view of it.
TEST(Subgraph, NoInPlaceWriteOverAMemoryAnotherValueStillNeeds) {
  constexpr const char* kResidual = R"(graph residual {{
  input %x : f32[1,8,6,6]
  input %w : f32[8,8,3,3]
  input %b : f32[8]
  input %key : i32[]
  %r = conv2d(%x, %w, %b) {{padding=[1,1]}} : f32[1,8,6,6]
  %a = {alias} : f32[1,8,6,6]
  %y = conv2d(%x, %w, %b, %r) {{padding=[1,1]}} : f32[1,8,6,6]
  %z = relu(%a) : f32[1,8,6,6]
  output %y, %z
}})";
  constexpr const char* kPool = R"(graph pool {{
  input %x : f32[2,4,4,4]
  input %dy : f32[2,4,2,2]
  input %key : i32[]
  %r = sigmoid(%x) : f32[2,4,4,4]
  %a = {alias} : f32[2,4,4,4]
  %dx = avg_pool_sigmoid_grad(%r, %dy) {{kernel=[2,2], stride=[2,2]}} : f32[2,4,4,4]
  %z = relu(%a) : f32[2,4,4,4]
  output %dx, %z
}})";
  for (const auto& [text, shape] : {std::pair{kResidual, "1,8,6,6"}, {kPool, "2,4,4,4"}}) {
    for (const std::string& alias : {std::string("dropout(%r, %key) {training=false}"),
                                     fmt::format("reshape(%r) {{shape=[{}]}}", shape)}) {
      SCOPED_TRACE(alias);
      expect_matches_reference(*parse_graph(fmt::format(fmt::runtime(text), fmt::arg("alias", alias))));
    }
  }
}

// A relu that alone reads a conv's, linear's, add's or inference batch norm's output is fused into that
// primitive; one whose input is needed elsewhere too is not.
TEST(Subgraph, ReluFusesIntoItsProducer) {
  TestGraph t;
  Value *x = t.input("x", {4, 16, 6, 6}), *w = t.input("w", {16, 16, 3, 3});
  Value* fused = t.b.relu(t.b.conv2d(x, w, nullptr, {.padding = {1, 1}}));
  Value* shared = t.b.conv2d(x, w);
  BatchNormOutputs bn = t.b.batch_norm(fused, t.input("gamma", {16}), t.input("beta", {16}),
                                       t.input("mean", {16}), t.input("var", {16}), {.training = false});
  Value* dense = t.b.relu(t.b.linear(t.b.flatten(t.b.relu(bn.y)), t.input("fc", {8, 576})));
  t.outputs({shared, t.b.relu(shared), dense, t.b.relu(t.b.add(fused, fused))});
  expect_matches_reference(t.graph, {{"var", positive({16})}});
}

// A sigmoid that alone reads the output of our own kernels (a conv of few channels, a plain batch norm in
// training) is computed inside them; one whose conv output is read elsewhere too is not.
TEST(Subgraph, SigmoidFusesIntoOurKernels) {
  TestGraph t;
  Value *x = t.input("x", {2, 3, 9, 20}), *w = t.input("w", {4, 3, 3, 3});
  Value* alone = t.b.sigmoid(t.b.conv2d(x, w, nullptr, {.padding = {1, 1}}));
  Value* shared = t.b.conv2d(x, w);
  BatchNormOutputs bn = t.b.batch_norm(alone, t.input("gamma", {4}), t.input("beta", {4}),
                                       t.input("mean", {4}), t.input("var", {4}));
  t.outputs({alone, shared, t.b.sigmoid(shared), t.b.sigmoid(bn.y), bn.new_running_mean, bn.new_running_var});
  expect_matches_reference(t.graph, {{"var", positive({4})}});
}

// batch norm, relu and back: the relu's gradient is masked inside the batch norm's backward.
TEST(Subgraph, ReluGradientFusesIntoBatchNormGradient) {
  for (const Shape& shape : {Shape{4, 16, 6, 6}, Shape{6, 20}}) {
    TestGraph t;
    const Shape channel = {shape[1]};
    Value *x = t.input("x", shape), *gamma = t.input("gamma", channel);
    Node* bn = t.graph.add_node("batch_norm", {x, gamma, t.input("beta", channel), t.input("mean", channel),
                                               t.input("var", channel)});
    Value* y = t.b.relu(bn->output(0));
    Value* dz = t.op("relu_grad", {t.input("dy", shape), y});
    Node* grad = t.graph.add_node("batch_norm_grad", {dz, x, gamma, bn->output(1), bn->output(2)});
    t.outputs({y, grad->output(0), grad->output(1), grad->output(2)});
    expect_matches_reference(t.graph, {{"var", positive(channel)}});
  }
}

// Planes of 16 or more (5×7: two vectors and a tail of 3) and rank 2 with 16 features or more (20: a block of
// 16 and one of 4) run as loops of our own (plain_norm.cc), as do ReluGradientFusesIntoBatchNormGradient's.
TEST(BatchNorm, TrainingInferenceAndGradientMatchReference) {
  for (const Shape& shape : {Shape{4, 5, 3, 3}, Shape{8, 6}, Shape{3, 6, 5, 7}, Shape{5, 20}}) {
    TestGraph t;
    const Shape channel = {shape[1]};
    Value *x = t.input("x", shape), *gamma = t.input("gamma", channel), *beta = t.input("beta", channel);
    Value *mean = t.input("mean", channel), *var = t.input("var", channel);
    Node* train = t.graph.add_node("batch_norm", {x, gamma, beta, mean, var}, {{"momentum", 0.2}});
    Value* infer = t.op("batch_norm", {x, gamma, beta, mean, var}, {{"training", false}});
    Node* grad = t.graph.add_node("batch_norm_grad",
                                  {t.input("dy", shape), x, gamma, train->output(1), train->output(2)});
    for (Value* v : train->outputs()) t.graph.add_output(v);
    t.outputs({infer, grad->output(0), grad->output(1), grad->output(2)});
    expect_matches_reference(t.graph, {{"var", positive(channel)}});
  }
}

TEST(Eltwise, ReluSigmoidAddAndGradientsMatchReference) {
  TestGraph t;
  Value *x = t.input("x", {2, 3, 5, 5}), *dy = t.input("dy", {2, 3, 5, 5});
  Value *r = t.b.relu(x), *s = t.b.sigmoid(x);
  t.outputs({r, s, t.op("relu_grad", {dy, r}), t.op("sigmoid_grad", {dy, s}), t.b.add(r, s)});
  expect_matches_reference(t.graph);
}

// avg_pool and avg_pool_sigmoid_grad (a permutation) on plain rows, 16 columns at a time (pool.cc): windows
// of 3 and 2 columns (the forward's of 3 is oneDNN's, of 2 ours: column pairs added by permutes), rows of 37
// and 34 (more than two chunks), the last column and row of the first in no window.
TEST(Pool, AvgPoolAndSigmoidGradOfPlainRowsMatchReference) {
  for (const auto& [x, pooled, k] : {std::tuple{Shape{2, 3, 7, 37}, Shape{2, 3, 2, 12}, int64_t{3}},
                                     {Shape{1, 2, 6, 34}, Shape{1, 2, 3, 17}, int64_t{2}}}) {
    TestGraph t;
    Value* y = t.b.sigmoid(t.input("x", x));
    const Attrs window = {{"kernel", Ints{k, k}}, {"stride", Ints{k, k}}, {"padding", Ints{0, 0}}};
    t.outputs(
        {t.op("avg_pool", {y}, window), t.op("avg_pool_sigmoid_grad", {y, t.input("dy", pooled)}, window)});
    expect_matches_reference(t.graph);
  }
}

// The backward takes the forward's workspace when both are in the subgraph, else recomputes it.
TEST(Pool, MaxPoolAndGradientMatchReference) {
  const Attrs window = {{"kernel", Ints{3, 3}}, {"stride", Ints{2, 2}}, {"padding", Ints{1, 1}}};
  for (bool with_forward : {true, false}) {
    TestGraph t;
    Value *x = t.input("x", {2, 16, 9, 9}), *dy = t.input("dy", {2, 16, 5, 5});
    if (with_forward) t.outputs({t.op("max_pool", {x}, window)});
    t.outputs({t.op("max_pool_grad", {dy, x}, window)});
    expect_matches_reference(t.graph);
  }
}

TEST(Pool, AveragePoolsAndGradientsMatchReference) {
  for (bool count_include_pad : {true, false}) {
    SCOPED_TRACE(count_include_pad ? "count_include_pad" : "padding excluded");
    TestGraph t;
    Value* x = t.input("x", {2, 3, 7, 7});
    const PoolAttrs window = {
        .kernel = {3, 3}, .stride = {2, 2}, .padding = {1, 1}, .count_include_pad = count_include_pad};
    Value* avg = t.b.avg_pool(x, window);
    Value* global = t.b.global_avg_pool(x);
    Attrs grad_attrs = avg->producer()->attrs();
    grad_attrs["input_shape"] = Ints{2, 3, 7, 7};
    t.outputs(
        {avg, global, t.op("avg_pool_grad", {t.input("dy", {2, 3, 4, 4})}, grad_attrs),
         t.op("global_avg_pool_grad", {t.input("dg", {2, 3, 1, 1})}, {{"input_shape", Ints{2, 3, 7, 7}}})});
    expect_matches_reference(t.graph);
  }
}

Tensor tensor(const Shape& shape, const std::vector<float>& values) {
  Tensor t(f32(shape));
  std::copy(values.begin(), values.end(), t.f32());
  return t;
}

// The graph's outputs computed by the oneDNN plugin alone, by value name.
std::map<std::string, Tensor> onednn_outputs(const Graph& graph, const Feeds& feeds) {
  Compiled compiled(onednn(), graph);
  EXPECT_NE(compiled.program(), nullptr) << onednn().last_error();
  if (compiled.program() == nullptr) return {};
  std::vector<Tensor> outputs = compiled.run(feeds);
  std::map<std::string, Tensor> named;
  for (size_t i = 0; i < outputs.size(); ++i) {
    named[compiled.desc().args()[compiled.desc().subgraph().n_inputs + i]->name()] = std::move(outputs[i]);
  }
  return named;
}

void expect_values(const Tensor& t, const std::vector<float>& expected, double tolerance) {
  ASSERT_EQ(t.size(), static_cast<int64_t>(expected.size()));
  for (int64_t i = 0; i < t.size(); ++i) EXPECT_NEAR(t.f32()[i], expected[i], tolerance) << "element " << i;
}

// Kernel 3, stride 1, padding 1 over 1..9 with count_include_pad false: corner windows divide by 4, edge
// ones by 6, the centre by 9; the gradient of dy = 1 gathers 1/divisor from each window an element is in.
TEST(Pool, AvgPoolExcludingPaddingHandComputed) {
  TestGraph t;
  const PoolAttrs window = {
      .kernel = {3, 3}, .stride = {1, 1}, .padding = {1, 1}, .count_include_pad = false};
  Value* y = t.b.avg_pool(t.input("x", {1, 1, 3, 3}), window);
  Attrs grad_attrs = y->producer()->attrs();
  grad_attrs["input_shape"] = Ints{1, 1, 3, 3};
  Value* dx = t.op("avg_pool_grad", {t.input("dy", {1, 1, 3, 3})}, grad_attrs);
  t.graph.rename(y, "y");
  t.graph.rename(dx, "dx");
  t.outputs({y, dx});
  const Feeds feeds = {{"x", tensor({1, 1, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9})},
                       {"dy", tensor({1, 1, 3, 3}, std::vector<float>(9, 1))}};
  std::map<std::string, Tensor> out = onednn_outputs(t.graph, feeds);
  ASSERT_EQ(out.size(), 2u);
  expect_values(out["y"],
                {12 / 4.0, 21 / 6.0, 16 / 4.0, 27 / 6.0, 45 / 9.0, 33 / 6.0, 24 / 4.0, 39 / 6.0, 28 / 4.0},
                1e-6);
  const float corner = 1 / 4.0 + 2 / 6.0 + 1 / 9.0, edge = 2 / 4.0 + 3 / 6.0 + 1 / 9.0;
  const float centre = 4 / 4.0 + 4 / 6.0 + 1 / 9.0;
  expect_values(out["dx"], {corner, edge, corner, edge, centre, edge, corner, edge, corner}, 1e-6);
  expect_matches_reference(t.graph, feeds, 1e-12);
}

// softmax and softmax_grad along every axis of ranks 1 to 5 and of the largest rank plugins take
// (STRATUM_MAX_RANK), and of a conv's blocked output.
TEST(Softmax, EveryAxisOfEveryRankMatchesReference) {
  for (const Shape& shape : {Shape{37}, Shape{6, 10}, Shape{3, 4, 5}, Shape{2, 3, 5, 7}, Shape{2, 3, 2, 4, 3},
                             Shape{2, 1, 3, 1, 2, 1, 2, 3}}) {
    SCOPED_TRACE(shape_str(shape));
    TestGraph t;
    Value *x = t.input("x", shape), *dy = t.input("dy", shape);
    for (int64_t axis = 0; axis < static_cast<int64_t>(shape.size()); ++axis) {
      Value* y = t.b.softmax(x, axis);
      t.outputs({y, t.op("softmax_grad", {dy, y}, {{"axis", axis}})});
    }
    expect_matches_reference(t.graph);
  }
  TestGraph t;
  Value* y = t.b.softmax(t.b.conv2d(t.input("x", {2, 3, 5, 5}), t.input("w", {16, 3, 3, 3})), 1);
  t.outputs({y, t.op("softmax_grad", {t.input("dy", {2, 16, 3, 3}), y}, {{"axis", int64_t{1}}})});
  expect_matches_reference(t.graph);
}

// e^1000 overflows f32: the maximum must be subtracted first. softmax(1000, 1001, 1002) is softmax(0, 1, 2).
TEST(Softmax, LargeValuesDoNotOverflow) {
  TestGraph t;
  Value* y = t.b.softmax(t.input("x", {2, 3}), 1);
  t.graph.rename(y, "y");
  t.outputs({y});
  const Feeds feeds = {{"x", tensor({2, 3}, {1000, 1001, 1002, -1000, 0, 1000})}};
  std::map<std::string, Tensor> out = onednn_outputs(t.graph, feeds);
  ASSERT_EQ(out.size(), 1u);
  expect_values(out["y"], {0.09003057f, 0.24472847f, 0.66524096f, 0, 0, 1}, 1e-6);
  expect_matches_reference(t.graph, feeds);
}

TEST(Linear, ForwardAndGradientsMatchReference) {
  TestGraph t;
  Value *x = t.input("x", {8, 20}), *w = t.input("w", {10, 20}), *dy = t.input("dy", {8, 10});
  t.outputs({t.b.linear(x, w, t.input("bias", {10})), t.b.linear(x, w), t.op("linear_grad_input", {dy, w}),
             t.op("linear_grad_weight", {dy, x}), t.op("bias_grad", {dy})});
  expect_matches_reference(t.graph);
}

// Blocked conv outputs with channel counts that cut through blocks, concatenated with a plain input, sliced
// back apart, flattened and reshaped.
TEST(Shape, ConcatSliceFlattenReshapeMatchReference) {
  TestGraph t;
  Value* x = t.input("x", {2, 16, 4, 4});
  Value* a = t.b.conv2d(x, t.input("wa", {5, 16, 1, 1}));
  Value* b = t.b.relu(t.b.conv2d(x, t.input("wb", {20, 16, 1, 1})));
  Value* joined = t.b.concat({a, x, b});
  Value* middle =
      t.op("slice", {joined}, {{"axis", int64_t{1}}, {"begin", int64_t{5}}, {"end", int64_t{21}}});
  Value* rows =
      t.op("slice", {t.b.flatten(b)}, {{"axis", int64_t{0}}, {"begin", int64_t{1}}, {"end", int64_t{2}}});
  t.outputs({joined, middle, rows, t.b.reshape(t.b.relu(middle), {4, 8, 16})});
  expect_matches_reference(t.graph);
}

// Blocked conv outputs whose channel counts are whole blocks, each copied into its channels of the output;
// a plain part first, the blocked one made plain; along the batch, oneDNN's concat. A slice of whole blocks,
// copied out blocked, into a conv.
TEST(Shape, ConcatOfBlockedPartsMatchesReference) {
  TestGraph t;
  Value* x = t.input("x", {2, 8, 5, 5});
  Value* a = t.b.conv2d(x, t.input("wa", {16, 8, 1, 1}));
  Value* b = t.b.relu(t.b.conv2d(x, t.input("wb", {32, 8, 1, 1})));
  Value* c = t.b.conv2d(x, t.input("wc", {16, 8, 1, 1}));
  Value* joined = t.b.concat({a, b, c});
  Value* cut = t.b.concat({t.b.conv2d(x, t.input("wd", {5, 8, 1, 1})), c});
  Value* blocks =
      t.op("slice", {joined}, {{"axis", int64_t{1}}, {"begin", int64_t{16}}, {"end", int64_t{48}}});
  t.outputs({joined, t.b.conv2d(joined, t.input("we", {16, 64, 1, 1})), cut, t.b.concat({a, c}, 0), blocks,
             t.b.conv2d(blocks, t.input("wf", {16, 32, 3, 3}))});
  expect_matches_reference(t.graph);
}

// merge_pointwise's shape at batch 1: one conv's output sliced at its blocks into views of it, the last of
// channels that do not fill their block (24 of 32, the padding the conv's), read by a 3×3 conv by rows, a
// 5×5 one and a relu, and one a graph output.
TEST(Shape, SlicesOfWholeBlocksOfOneImageAreViews) {
  TestGraph t;
  Value* x = t.input("x", {1, 16, 6, 6});
  Value* joined = t.b.conv2d(x, t.input("w", {72, 16, 1, 1}), t.input("b", {72}));
  auto slice = [&](int64_t begin, int64_t end) {
    return t.op("slice", {joined}, {{"axis", int64_t{1}}, {"begin", begin}, {"end", end}});
  };
  Value *first = slice(0, 16), *second = slice(16, 48), *last = slice(48, 72);
  t.outputs({first, t.b.relu(first),
             t.b.conv2d(second, t.input("w3", {32, 32, 3, 3}), nullptr, {.padding = {1, 1}}),
             t.b.conv2d(last, t.input("w5", {16, 24, 5, 5}), nullptr, {.padding = {2, 2}})});
  expect_matches_reference(t.graph);
}

// concat_batch_norm of blocked conv outputs, the first of channels that do not fill its blocks (20 of 32:
// DenseNet's last block), normalised channel by channel into y's blocks; y, its padding zeros, into a conv.
TEST(Fused, ConcatBatchNormOfPartsThatDoNotFillTheirBlocks) {
  TestGraph t;
  Value* x = t.input("x", {2, 16, 5, 5});
  std::vector<Value*> in = {t.b.conv2d(x, t.input("wa", {20, 16, 1, 1})),
                            t.b.conv2d(x, t.input("wb", {32, 16, 1, 1}))};
  for (const char* name : {"gamma", "beta", "mean", "var"}) in.push_back(t.input(name, {52}));
  Value* y = t.op("concat_batch_norm", in, {{"relu", true}});
  t.outputs({y, t.b.conv2d(y, t.input("wy", {16, 52, 1, 1}))});
  expect_matches_reference(t.graph, {{"var", positive({52})}});
}

TEST(Shape, ConcatAndSliceTakeI32) {
  TestGraph t;
  Value* a = t.graph.add_input("a", {DType::i32, {3, 2}});
  Value* b = t.graph.add_input("b", {DType::i32, {3, 4}});
  Value* joined = t.b.concat({a, b});
  t.outputs(
      {joined, t.op("slice", {joined}, {{"axis", int64_t{1}}, {"begin", int64_t{1}}, {"end", int64_t{5}}})});
  expect_matches_reference(t.graph);
}

TEST(Loss, SoftmaxCrossEntropyAndGradientMatchReference) {
  TestGraph t;
  Value* logits = t.b.linear(t.input("x", {6, 8}), t.input("w", {3, 8}));
  Value* labels = t.graph.add_input("labels", {DType::i32, {6}});
  LossOutputs loss = t.b.softmax_cross_entropy(logits, labels);
  t.outputs(
      {loss.loss, loss.correct, t.op("softmax_cross_entropy_grad", {t.input("dloss", {}), logits, labels})});
  expect_matches_reference(t.graph);
}

TEST(Loss, LabelOutsideTheClassesFailsNamingNodeAndRow) {
  TestGraph t;
  Value* labels = t.graph.add_input("labels", {DType::i32, {4}});
  LossOutputs loss = t.b.softmax_cross_entropy(t.input("logits", {4, 3}), labels);
  t.graph.rename(loss.loss, "loss");
  t.outputs({loss.loss, loss.correct});
  Tensor bad({DType::i32, {4}});
  bad.i32()[2] = 3;
  Compiled compiled(onednn(), t.graph);
  ASSERT_NE(compiled.program(), nullptr) << onednn().last_error();
  EXPECT_NE(compiled.run_status(complete_feeds(t.graph, {{"labels", bad}})), 0);
  const std::string error = onednn().last_error();
  EXPECT_NE(error.find("softmax_cross_entropy -> %loss"), std::string::npos) << error;
  EXPECT_NE(error.find("row 2 has label 3"), std::string::npos) << error;
}

TEST(Dropout, MasksMatchReference) {
  TestGraph t;
  Value *x = t.input("x", {4, 37}), *key = t.graph.add_input("key", {DType::i32, {}});
  t.outputs({t.b.dropout(x, key, 0.3, 11), t.b.dropout(x, key, 0.3, 11, /*training=*/false),
             t.op("dropout_grad", {t.input("dy", {4, 37}), key}, {{"p", 0.3}, {"seed", int64_t{11}}})});
  Tensor k({DType::i32, {}});
  k.i32()[0] = 12345;
  expect_matches_reference(t.graph, {{"key", k}}, 0);
}

TEST(Optimizer, SgdUpdateAndFillMatchReference) {
  TestGraph t;
  Value* w = t.input("w", {3, 4, 5});
  t.outputs({t.op("sgd_update", {w, t.input("g", {3, 4, 5}), t.input("lr", {})}),
             t.op("fill", {}, {{"value", 1.5}, {"shape", Ints{2, 3}}})});
  expect_matches_reference(t.graph, {}, 0);
}

// A whole training step (forward, loss, backward, SGD) as one subgraph, from the reference's initial params.
void expect_training_step_matches_reference(std::unique_ptr<Graph> graph, int64_t classes) {
  build_training_step(*graph);
  Feeds feeds = init_store(*graph, 5);
  Tensor labels({DType::i32, graph->find("labels")->type().shape});
  for (int64_t i = 0; i < labels.size(); ++i) labels.i32()[i] = static_cast<int32_t>((i * 7) % classes);
  feeds["labels"] = labels;
  expect_matches_reference(*graph, feeds, 1e-7);
}

TEST(TrainingStep, ResidualConcatNetMatchesReference) {
  expect_training_step_matches_reference(testing::residual_concat_net(8), 3);
}

TEST(TrainingStep, EveryOpNetMatchesReference) {
  expect_training_step_matches_reference(testing::every_op_net(4), 5);
}

// In inference the weight is a constant input: reordered into the convolution's layout once, and again after
// each load_state, whose new weights the next run uses.
TEST(Executor, ConstantWeightsRefreshAtEachLoadState) {
  Graph graph;
  Value* x = graph.add_input("x", f32({2, 16, 8, 8}));
  Value* w = graph.add_param("w", f32({32, 16, 3, 3}), {Init::kXavierUniform});
  graph.add_output(graph.add_node("conv2d", {x, w}, {{"padding", Ints{1, 1}}})->output());
  const Feeds feeds = random_feeds(graph, 3);
  Executor executor(graph, onednn());
  for (uint64_t seed : {1, 2, 2, 1}) {
    Store weights = init_store(graph, seed);
    executor.load_state(weights);
    for (int run = 0; run < 2; ++run) {
      executor.run(feeds);
      Interpreter reference(graph);
      reference.run(feeds, weights);
      EXPECT_LE(nmse(executor.outputs()[0], reference.outputs()[0]), 1e-10)
          << "seed " << seed << " run " << run;
    }
  }
}

TEST(OnednnPlugin, ReportsNodeTimes) {
  auto graph = testing::residual_concat_net(2);
  Compiled compiled(onednn(), *graph);
  ASSERT_NE(compiled.program(), nullptr) << onednn().last_error();
  compiled.run(complete_feeds(*graph, {}));
  const int32_t n = compiled.desc().subgraph().n_nodes;
  std::vector<double> ms(n, -1);
  ASSERT_EQ(onednn().node_times(compiled.program(), ms.data(), n), 0) << onednn().last_error();
  for (double t : ms) EXPECT_GE(t, 0);
  EXPECT_NE(onednn().node_times(compiled.program(), ms.data(), n + 1), 0);
}

// A program's arena is laid out by the memory plan's placement (backends/arena_plan.h) over the same
// lifetimes, but holds only the subgraph's internal values: its outputs are args, in the caller's memory.
// On plain f32 ops (no blocked layout, no scratchpad) it is the plan's peak less the output's bytes, plus
// the buffers the plan shares in place and the plugin does not (an eltwise primitive writes a new buffer).
TEST(OnednnPlugin, ArenaIsThePlansPeakLessTheOutputArg) {
  constexpr int64_t kValue = 8 * 1024 * 4;
  for (bool chain : {false, true}) {
    TestGraph t;
    Value* x = t.input("x", {8, 1024});
    Value* a = t.b.relu(x);         // a buffer of its own: x is an arg
    if (chain) a = t.b.sigmoid(a);  // in the plan, over relu's output, which dies here
    t.outputs({t.b.add(x, a)});     // not in place: its input 0 is x
    const MemoryPlan plan = plan_memory(t.graph);
    EXPECT_EQ(plan.inplace.size(), chain ? 1u : 0u);
    EXPECT_EQ(plan.peak_bytes, 2 * kValue);
    Compiled compiled(onednn(), t.graph);
    ASSERT_NE(compiled.program(), nullptr) << onednn().last_error();
    ASSERT_TRUE(STRATUM_PLUGIN_HAS(&onednn(), arena_bytes) && onednn().arena_bytes != nullptr);
    const int64_t arena = static_cast<int64_t>(onednn().arena_bytes(compiled.program()));
    EXPECT_EQ(arena, plan.peak_bytes - kValue + (chain ? kValue : 0)) << "chain " << chain;
  }
}

TEST(OnednnPlugin, CompileErrorsNameTheNode) {
  TestGraph t;
  t.outputs({t.b.relu(t.input("x", {2, 2}))});
  SubgraphDesc desc({t.graph.nodes()[0].get()}, [](const Value*) { return true; });
  stratum_subgraph bad = desc.subgraph();
  std::vector<stratum_node> nodes = {desc.node(0)};
  nodes[0].op = "sigmoid_grad";  // two inputs, given one
  bad.nodes = nodes.data();
  EXPECT_EQ(onednn().compile(&bad), nullptr);
  EXPECT_NE(std::string(onednn().last_error()).find("relu"), std::string::npos) << onednn().last_error();
}

}  // namespace
}  // namespace stratum
