#include "passes/fusion.h"

#include <gtest/gtest.h>

#include <random>
#include <sstream>

#include "backends/reference/interpreter.h"
#include "ir/builder.h"
#include "ir/error.h"
#include "passes/autodiff.h"
#include "passes/dce.h"

namespace stratum {
namespace {

TensorType f32(Shape shape) { return {DType::f32, std::move(shape)}; }

std::vector<std::string> op_names(const Graph& graph) {
  std::vector<std::string> names;
  for (const auto& node : graph.nodes()) names.push_back(node->op_name());
  return names;
}

// x -> conv2d(w, b) -> batch_norm -> relu (or sigmoid) -> max_pool, and the loss of a linear layer on it.
struct SmallNet {
  explicit SmallNet(bool training, bool relu = true) {
    Builder b(graph);
    Value* x = graph.add_input("x", f32({2, 2, 5, 5}));
    Value* labels = graph.add_input("labels", {DType::i32, {2}});
    conv = b.conv2d(x, graph.add_param("w", f32({3, 2, 3, 3}), {Init::kXavierUniform}),
                    graph.add_param("b", f32({3}), {Init::kUniform, 0.3}), {.padding = {1, 1}});
    Value *mean = graph.add_state("mean", f32({3}), {Init::kZeros}),
          *var = graph.add_state("var", f32({3}), {Init::kOnes});
    BatchNormOutputs bn =
        b.batch_norm(conv, graph.add_param("gamma", f32({3}), {Init::kOnes}),
                     graph.add_param("beta", f32({3}), {Init::kZeros}), mean, var, {.training = training});
    if (training) {
      graph.add_update(mean, bn.new_running_mean);
      graph.add_update(var, bn.new_running_var);
    }
    y = relu ? b.relu(bn.y) : b.sigmoid(bn.y);
    Value* pooled = b.max_pool(y, {.kernel = {2, 2}, .stride = {2, 2}});  // its backward reads y
    Value* logits = b.linear(b.flatten(pooled), graph.add_param("fc", f32({4, 12}), {Init::kXavierUniform}));
    LossOutputs loss = b.softmax_cross_entropy(logits, labels);
    graph.rename(loss.loss, "loss");
    graph.add_output(loss.loss);
    graph.add_output(loss.correct);
    if (training) {
      build_training_step(graph);
      DcePass().run(graph);
    }
  }
  Graph graph;
  Value *conv, *y;
};

std::string explain(Graph& graph, bool training, FusionOptions options = {}) {
  std::ostringstream reasons;
  options.explain = &reasons;
  fusion_manager(training, options).run(graph);
  return reasons.str();
}

TEST(FusionTest, InferenceFoldsTheBatchNormAndFusesTheRelu) {
  SmallNet net(/*training=*/false);
  EXPECT_EQ(explain(net.graph, false), "");
  EXPECT_EQ(op_names(net.graph), (std::vector<std::string>{"fold_batch_norm", "conv2d", "max_pool", "flatten",
                                                           "linear", "softmax_cross_entropy"}));
  EXPECT_TRUE(net.graph.nodes()[1]->attr_bool("relu"));
}

TEST(FusionTest, TrainingFusesConvBatchNormReluForwardAndBackward) {
  SmallNet net(/*training=*/true);
  fusion_manager(/*training=*/true).run(net.graph);
  const auto ops = op_names(net.graph);
  EXPECT_EQ(std::count(ops.begin(), ops.end(), "conv_bn"), 1);
  EXPECT_EQ(std::count(ops.begin(), ops.end(), "conv_bn_grad"), 1);
  for (const char* gone :
       {"conv2d", "relu", "relu_grad", "batch_norm_grad", "conv2d_grad_weight", "bias_grad"})
    EXPECT_EQ(std::count(ops.begin(), ops.end(), gone), 0) << gone;
  // The backward's max_pool_grad reads y normalised again: an inference batch_norm with relu.
  EXPECT_EQ(std::count(ops.begin(), ops.end(), "batch_norm"), 1);
  for (const auto& node : net.graph.nodes()) {
    const std::string& op = node->op_name();
    if (op == "conv_bn" || op == "conv_bn_grad" || op == "batch_norm") {
      EXPECT_EQ(node->backward(), op != "conv_bn") << op;
    }
  }
}

// The backward is what autodiff marked, so a gradient that is also a graph output leaves it as it was.
TEST(FusionTest, RecomputesBatchNormReluWhenAGradientIsAnOutput) {
  SmallNet net(/*training=*/true);
  net.graph.add_output(net.graph.find("w.grad"));  // computed after max_pool_grad
  const PassReport report = fusion_manager(/*training=*/true).run(net.graph);
  EXPECT_EQ(report.passes[3].name, "recompute_bn_relu");
  EXPECT_EQ(report.passes[3].rewrites, 1);
}

TEST(FusionTest, ExplainsWhyAnIntermediateThatIsAGraphOutputIsNotFused) {
  SmallNet net(/*training=*/false);
  net.graph.add_output(net.conv);
  const std::string why = explain(net.graph, false);
  EXPECT_NE(why.find("fold_bn: batch_norm of %gamma: not fused: the conv2d output is a graph output"),
            std::string::npos)
      << why;
}

TEST(FusionTest, ExplainsWhyAnIntermediateWithTwoUsersIsNotFused) {
  SmallNet net(/*training=*/false);
  Builder(net.graph).sigmoid(net.conv);
  EXPECT_NE(explain(net.graph, false).find("not fused: the conv2d output has 2 users"), std::string::npos);
}

TEST(FusionTest, KeepsChainsThatWouldSpanTwoBackendsApart) {
  SmallNet net(/*training=*/false);
  const std::string why =
      explain(net.graph, false, {.explain = nullptr, .runs_on_plugin = [](const Node& node) {
                                   return node.op_name() != "batch_norm";
                                 }});
  EXPECT_NE(why.find("fold_bn: batch_norm of %gamma: not fused: they run on different backends"),
            std::string::npos)
      << why;
}

TEST(FusionTest, KeepsChainsWhoseFusedOpTheBackendLacks) {
  SmallNet net(/*training=*/false);
  const std::string why =
      explain(net.graph, false, {.explain = nullptr, .runs_on_plugin = [](const Node& node) {
                                   return !(node.op_name() == "conv2d" && node.attr_bool("relu"));
                                 }});
  EXPECT_NE(why.find("fuse_relu: relu: not fused: the backend runs conv2d but not the fused conv2d"),
            std::string::npos)
      << why;
  const auto ops = op_names(net.graph);
  EXPECT_EQ(std::count(ops.begin(), ops.end(), "relu"), 1);
}

TEST(FusionTest, PassesAreSwitchedOffByName) {
  SmallNet net(/*training=*/false);
  fusion_manager(/*training=*/false, {}, {.disabled = {"fuse_relu"}}).run(net.graph);
  const auto ops = op_names(net.graph);
  EXPECT_EQ(std::count(ops.begin(), ops.end(), "relu"), 1);
  EXPECT_EQ(std::count(ops.begin(), ops.end(), "fold_batch_norm"), 1);
  EXPECT_THROW(fusion_manager(/*training=*/false, {}, {.disabled = {"fuse_everything"}}).run(net.graph),
               Error);
}

// batch_norm(concat(concat(a, b), c)) reads a, b and c; the inner concat stays while another reader needs it.
TEST(FusionTest, BatchNormsOfConcatsReadTheParts) {
  Graph graph;
  Builder b(graph);
  Value* ab = b.concat({graph.add_input("a", f32({2, 3, 4, 4})), graph.add_input("b", f32({2, 1, 4, 4}))});
  Value* abc = b.concat({ab, graph.add_input("c", f32({2, 2, 4, 4}))});
  auto normalized = [&](Value* x, const std::string& name) {
    const TensorType channels = f32({x->type().shape[1]});
    std::vector<Value*> stats;
    for (const char* stat : {".gamma", ".beta", ".mean", ".var"})
      stats.push_back(graph.add_input(name + stat, channels));
    return b.batch_norm(x, stats[0], stats[1], stats[2], stats[3], {.training = false}).y;
  };
  graph.add_output(b.relu(normalized(abc, "bn1")));
  graph.add_output(normalized(ab, "bn2"));
  graph.add_output(ab);
  const std::string why = explain(graph, false);
  EXPECT_EQ(why.find("fuse_concat_bn"), std::string::npos) << why;
  EXPECT_EQ(op_names(graph), (std::vector<std::string>{"concat", "concat_batch_norm", "concat_batch_norm"}));
  const Node& first = *graph.nodes()[1];
  EXPECT_EQ(first.inputs().size(), 3u + 4u);
  EXPECT_EQ(first.input(2)->name(), "c");
  EXPECT_TRUE(first.attr_bool("relu"));
  EXPECT_FALSE(graph.nodes()[2]->attr_bool("relu"));
}

// Fused and unfused graphs on the reference backend, from non-trivial params and batch-norm statistics.
std::vector<Tensor> run(const Graph& graph) {
  Store store = init_store(graph, 1);
  std::mt19937_64 rng(2);
  std::uniform_real_distribution<float> uniform(0.5f, 1.5f);
  for (const char* name : {"gamma", "beta", "mean", "var"}) {
    for (int64_t i = 0; i < 3; ++i) store[name].f32()[i] = uniform(rng) - (name[0] == 'b' || name[0] == 'm');
  }
  Tensor x(f32({2, 2, 5, 5})), labels({DType::i32, {2}});
  for (int64_t i = 0; i < x.size(); ++i) x.f32()[i] = uniform(rng) - 1;
  labels.i32()[1] = 3;
  Interpreter interpreter(graph);
  interpreter.run({{"x", x}, {"labels", labels}, {"lr", Tensor(0.1f)}}, store);
  std::vector<Tensor> results = interpreter.outputs();
  for (const auto& [name, tensor] : store) results.push_back(tensor);
  return results;
}

void expect_fusion_keeps_results(bool training, bool relu) {
  SmallNet unfused(training, relu), fused(training, relu);
  fusion_manager(training).run(fused.graph);
  const auto want = run(unfused.graph), got = run(fused.graph);
  ASSERT_EQ(want.size(), got.size());
  for (size_t i = 0; i < want.size(); ++i) EXPECT_LT(nmse(got[i], want[i]), 1e-12) << "result " << i;
}

// sigmoid_grad(avg_pool_grad(dy), y) with padding: the fused op keeps the pool's divisor.
TEST(FusionTest, PoolSigmoidGradKeepsCountIncludePad) {
  for (bool count_include_pad : {true, false}) {
    Graph unfused, fused;
    for (Graph* graph : {&unfused, &fused}) {
      Value* y = Builder(*graph).sigmoid(graph->add_input("x", f32({1, 2, 5, 5})));
      const Attrs pool = {{"kernel", Ints{3, 3}},
                          {"stride", Ints{2, 2}},
                          {"padding", Ints{1, 1}},
                          {"count_include_pad", count_include_pad},
                          {"input_shape", Ints{1, 2, 5, 5}}};
      Node* pooled_grad = graph->add_node("avg_pool_grad", {graph->add_input("dy", f32({1, 2, 3, 3}))}, pool);
      graph->add_output(graph->add_node("sigmoid_grad", {pooled_grad->output(), y})->output());
    }
    fusion_manager(/*training=*/true).run(fused);
    ASSERT_EQ(op_names(fused), (std::vector<std::string>{"sigmoid", "avg_pool_sigmoid_grad"}));
    EXPECT_EQ(fused.nodes()[1]->attr_bool("count_include_pad"), count_include_pad);
    std::mt19937_64 rng(3);
    std::uniform_real_distribution<float> uniform(-1, 1);
    std::map<std::string, Tensor> feeds = {{"x", Tensor(f32({1, 2, 5, 5}))},
                                           {"dy", Tensor(f32({1, 2, 3, 3}))}};
    for (auto& [name, t] : feeds) {
      for (int64_t i = 0; i < t.size(); ++i) t.f32()[i] = uniform(rng);
    }
    Interpreter want(unfused), got(fused);
    Store no_state;
    want.run(feeds, no_state);
    got.run(feeds, no_state);
    EXPECT_LT(nmse(got.outputs()[0], want.outputs()[0]), 1e-12);
  }
}

// x read by 1×1 convs of 16, 8, 32 and 24 outputs with a relu, one without, a 3×3 one and one at stride 2:
// the three with a relu that fill blocks of 16 or come first of those that do not (8) merge, that one last.
TEST(FusionTest, MergesThePointwiseConvsOfOneInput) {
  Graph unfused, fused;
  for (Graph* graph : {&unfused, &fused}) {
    Builder b(*graph);
    Value* x = graph->add_input("x", f32({1, 4, 3, 3}));
    int index = 0;
    auto conv = [&](int64_t outputs, int64_t k, bool relu, Ints stride) {
      const std::string n = std::to_string(index++);
      Value* y = b.conv2d(x, graph->add_input("w" + n, f32({outputs, 4, k, k})),
                          graph->add_input("b" + n, f32({outputs})), {.stride = stride});
      y = relu ? b.relu(y) : y;
      graph->rename(y, "y" + n);
      graph->add_output(y);
    };
    for (int64_t outputs : {16, 8, 32, 24}) conv(outputs, 1, true, {1, 1});
    conv(16, 1, false, {1, 1});
    conv(16, 3, true, {1, 1});
    conv(16, 1, true, {2, 2});
  }
  std::ostringstream reasons;
  FusionOptions options;
  options.explain = &reasons;
  const PassReport report = fusion_manager(/*training=*/false, options).run(fused);
  EXPECT_EQ(report.passes.back().name, "merge_pointwise");
  EXPECT_EQ(report.passes.back().rewrites, 1);
  const auto ops = op_names(fused);
  EXPECT_EQ(std::count(ops.begin(), ops.end(), "conv2d"), 5) << reasons.str();
  EXPECT_EQ(std::count(ops.begin(), ops.end(), "slice"), 3);
  const Node* merged = fused.find("y0")->producer()->input(0)->producer();
  EXPECT_EQ(merged->input(1)->type().shape, (Shape{56, 4, 1, 1}));  // 16 + 32, then 8
  EXPECT_EQ(fused.find("y1")->producer()->attr_int("begin"), 48);
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<float> uniform(-1, 1);
  std::map<std::string, Tensor> feeds;
  for (const Value* input : unfused.leaves()) {
    Tensor t(input->type());
    for (int64_t i = 0; i < t.size(); ++i) t.f32()[i] = uniform(rng);
    feeds[input->name()] = t;
  }
  Interpreter want(unfused), got(fused);
  Store no_state;
  want.run(feeds, no_state);
  got.run(feeds, no_state);
  ASSERT_EQ(want.outputs().size(), 7u);
  for (size_t i = 0; i < 7; ++i) EXPECT_EQ(nmse(got.outputs()[i], want.outputs()[i]), 0) << "output " << i;
}

TEST(FusionTest, FusedGraphsComputeWhatUnfusedOnesDo) {
  for (bool training : {false, true}) {
    for (bool relu : {false, true}) expect_fusion_keeps_results(training, relu);
  }
}

}  // namespace
}  // namespace stratum
