// Every differentiable op's gradient builder, run on the reference kernels, against central finite
// differences of L = Σ r·y for a random weighting r of the op's first output (the only one any gradient
// builder differentiates: batch_norm's other outputs are statistics, the loss's second is a count).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <set>

#include "backends/reference/interpreter.h"
#include "ir/op.h"

namespace stratum {
namespace {

// How an input's elements are drawn. Relu's inputs stay off its kink, max_pool's apart from each other
// (ties and near-ties would let the perturbation move the maximum), variances positive; large values near
// 1000 check that softmax does not overflow.
enum class Fill { kUniform, kAwayFromZero, kDistinct, kPositive, kLarge, kSmallInts };

struct InputSpec {
  TensorType type;
  Fill fill = Fill::kUniform;
};

struct GradCase {
  std::string name;
  std::string op;
  std::vector<InputSpec> inputs;
  Attrs attrs;
};

void PrintTo(const GradCase& c, std::ostream* os) { *os << c.name; }

InputSpec f32(Shape shape, Fill fill = Fill::kUniform) { return {{DType::f32, std::move(shape)}, fill}; }
InputSpec i32(Shape shape) { return {{DType::i32, std::move(shape)}, Fill::kSmallInts}; }

std::vector<GradCase> grad_cases() {
  const Attrs pool_padded = {{"kernel", Ints{3, 3}}, {"stride", Ints{2, 2}}, {"padding", Ints{1, 1}}};
  Attrs pool_padded_excluded = pool_padded;
  pool_padded_excluded["count_include_pad"] = false;
  return {
      {"conv2d_padding_bias",
       "conv2d",
       {f32({1, 2, 4, 4}), f32({3, 2, 3, 3}), f32({3})},
       {{"padding", Ints{1, 1}}}},
      {"conv2d_stride2_padding",
       "conv2d",
       {f32({2, 2, 5, 5}), f32({2, 2, 3, 3})},
       {{"stride", Ints{2, 2}}, {"padding", Ints{1, 1}}}},
      {"conv2d_dilation2_groups2_bias",
       "conv2d",
       {f32({1, 4, 5, 5}), f32({4, 2, 2, 2}), f32({4})},
       {{"dilation", Ints{2, 2}}, {"groups", int64_t{2}}}},
      {"conv2d_asymmetric_everything",
       "conv2d",
       {f32({1, 4, 6, 5}), f32({2, 2, 2, 3})},
       {{"stride", Ints{2, 1}}, {"padding", Ints{1, 0}}, {"dilation", Ints{2, 1}}, {"groups", int64_t{2}}}},
      {"batch_norm_rank2",
       "batch_norm",
       {f32({4, 3}), f32({3}), f32({3}), f32({3}), f32({3}, Fill::kPositive)},
       {}},
      {"batch_norm_rank4",
       "batch_norm",
       {f32({2, 2, 2, 2}), f32({2}), f32({2}), f32({2}), f32({2}, Fill::kPositive)},
       {}},
      {"relu", "relu", {f32({2, 5}, Fill::kAwayFromZero)}, {}},
      {"sigmoid", "sigmoid", {f32({2, 5})}, {}},
      {"add", "add", {f32({2, 3}), f32({2, 3})}, {}},
      {"dropout_training", "dropout", {f32({3, 4}), i32({})}, {{"p", 0.4}, {"seed", int64_t{3}}}},
      {"dropout_inference", "dropout", {f32({3, 4}), i32({})}, {{"training", false}}},
      {"max_pool_padding", "max_pool", {f32({1, 2, 4, 4}, Fill::kDistinct)}, pool_padded},
      {"max_pool_asymmetric",
       "max_pool",
       {f32({1, 2, 3, 4}, Fill::kDistinct)},
       {{"kernel", Ints{2, 3}}, {"stride", Ints{1, 2}}, {"padding", Ints{1, 1}}}},
      {"avg_pool_padding", "avg_pool", {f32({1, 2, 5, 5})}, pool_padded},
      {"avg_pool_padding_excluded", "avg_pool", {f32({1, 2, 5, 5})}, pool_padded_excluded},
      {"avg_pool_k3_s1_padding_excluded",
       "avg_pool",
       {f32({1, 1, 3, 4})},
       {{"kernel", Ints{3, 3}},
        {"stride", Ints{1, 1}},
        {"padding", Ints{1, 1}},
        {"count_include_pad", false}}},
      {"global_avg_pool", "global_avg_pool", {f32({2, 3, 2, 2})}, {}},
      {"linear_bias", "linear", {f32({3, 4}), f32({2, 4}), f32({2})}, {}},
      {"linear", "linear", {f32({3, 4}), f32({2, 4})}, {}},
      {"flatten", "flatten", {f32({2, 3, 2})}, {}},
      {"reshape", "reshape", {f32({2, 6})}, {{"shape", Ints{3, 4}}}},
      {"concat3_axis1", "concat", {f32({2, 1, 3}), f32({2, 2, 3}), f32({2, 3, 3})}, {}},
      {"concat3_axis0", "concat", {f32({1, 3}), f32({2, 3}), f32({1, 3})}, {{"axis", int64_t{0}}}},
      {"softmax_cross_entropy", "softmax_cross_entropy", {f32({3, 4}), i32({3})}, {}},
      {"softmax_rank1", "softmax", {f32({5})}, {{"axis", int64_t{0}}}},
      {"softmax_rank2_axis0", "softmax", {f32({4, 3})}, {{"axis", int64_t{0}}}},
      {"softmax_rank2_axis1", "softmax", {f32({3, 4})}, {{"axis", int64_t{1}}}},
      {"softmax_rank3_axis1", "softmax", {f32({2, 3, 4})}, {{"axis", int64_t{1}}}},
      {"softmax_rank4_axis3", "softmax", {f32({2, 2, 2, 3})}, {{"axis", int64_t{3}}}},
      {"softmax_rank4_axis0", "softmax", {f32({3, 2, 1, 2})}, {{"axis", int64_t{0}}}},
      {"softmax_large_values", "softmax", {f32({2, 3}, Fill::kLarge)}, {{"axis", int64_t{1}}}},
  };
}

Tensor random_tensor(const TensorType& type, Fill fill, std::mt19937& rng) {
  Tensor t(type);
  if (fill == Fill::kSmallInts) {  // labels for 3 or more classes, or a dropout key
    for (int64_t i = 0; i < t.size(); ++i) t.i32()[i] = static_cast<int32_t>(rng() % 3);
    return t;
  }
  std::uniform_real_distribution<float> uniform(-1, 1);
  for (int64_t i = 0; i < t.size(); ++i) {
    const float u = uniform(rng);
    if (fill == Fill::kUniform) t.f32()[i] = u;
    if (fill == Fill::kAwayFromZero) t.f32()[i] = std::copysign(0.2f + 0.8f * std::abs(u), u);
    if (fill == Fill::kPositive) t.f32()[i] = 1.0f + 0.5f * u;
    if (fill == Fill::kLarge) t.f32()[i] = 1000.0f + u;
    if (fill == Fill::kDistinct) t.f32()[i] = 0.1f * float(i - t.size() / 2);  // shuffled below
  }
  if (fill == Fill::kDistinct) std::shuffle(t.f32(), t.f32() + t.size(), rng);
  return t;
}

// The op's node on graph inputs x0, x1, ..., the weighting r of its first output (input "r"), and the
// gradients its builder emits.
struct GradGraph {
  Graph graph;
  Node* node = nullptr;
  std::vector<Value*> grads;  // per input; null where none flows
};

void build(const GradCase& c, GradGraph& g) {
  std::vector<Value*> inputs;
  for (size_t i = 0; i < c.inputs.size(); ++i) {
    inputs.push_back(g.graph.add_input("x" + std::to_string(i), c.inputs[i].type));
  }
  g.node = g.graph.add_node(c.op, inputs, c.attrs);
  std::vector<Value*> output_grads(g.node->outputs().size(), nullptr);
  output_grads[0] = g.graph.add_input("r", g.node->output(0)->type());
  g.grads = g.node->op().grad(GradCall{g.graph, *g.node, output_grads});
}

// L = Σ r·y, in double.
double weighted_sum(Interpreter& interpreter, const GradGraph& g,
                    const std::map<std::string, Tensor>& feeds) {
  Store store;
  interpreter.run(feeds, store);
  const Tensor &y = interpreter.value(g.node->output(0)), &r = feeds.at("r");
  double sum = 0;
  for (int64_t i = 0; i < y.size(); ++i) sum += double(r.f32()[i]) * y.f32()[i];
  return sum;
}

class GradientTest : public ::testing::TestWithParam<GradCase> {};

TEST_P(GradientTest, MatchesFiniteDifferences) {
  const GradCase& c = GetParam();
  GradGraph g;
  build(c, g);
  ASSERT_EQ(g.grads.size(), c.inputs.size()) << c.op << "'s gradient builder returned the wrong count";

  std::mt19937 rng(std::hash<std::string>()(c.name));
  std::map<std::string, Tensor> feeds;
  for (size_t i = 0; i < c.inputs.size(); ++i) {
    feeds["x" + std::to_string(i)] = random_tensor(c.inputs[i].type, c.inputs[i].fill, rng);
  }
  feeds["r"] = random_tensor(g.node->output(0)->type(), Fill::kUniform, rng);

  Interpreter interpreter(g.graph);
  weighted_sum(interpreter, g, feeds);
  std::vector<Tensor> analytic;  // zeros where the builder says no gradient flows
  for (size_t i = 0; i < c.inputs.size(); ++i) {
    analytic.push_back(g.grads[i] ? interpreter.value(g.grads[i]) : Tensor(c.inputs[i].type));
  }

  const float h = 1e-2f;
  for (size_t i = 0; i < c.inputs.size(); ++i) {
    if (c.inputs[i].type.dtype != DType::f32) continue;
    const std::string name = "x" + std::to_string(i);
    ASSERT_EQ(analytic[i].type(), c.inputs[i].type) << c.op << " input " << i << ": gradient type";
    for (int64_t e = 0; e < analytic[i].size(); ++e) {
      std::map<std::string, Tensor> plus = feeds, minus = feeds;
      const float x = feeds[name].f32()[e];
      plus[name].f32()[e] = x + h;
      minus[name].f32()[e] = x - h;
      const double numeric = (weighted_sum(interpreter, g, plus) - weighted_sum(interpreter, g, minus)) /
                             (double(x + h) - double(x - h));
      const double exact = analytic[i].f32()[e];
      const double tolerance = 1e-3 + 5e-3 * std::max(std::abs(exact), std::abs(numeric));
      EXPECT_NEAR(exact, numeric, tolerance) << c.op << " (" << c.name << ") input " << i << " element " << e;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllDifferentiableOps, GradientTest, ::testing::ValuesIn(grad_cases()),
                         [](const ::testing::TestParamInfo<GradCase>& info) { return info.param.name; });

TEST(GradientCoverage, EveryDifferentiableOpHasACase) {
  std::set<std::string> covered;
  for (const GradCase& c : grad_cases()) covered.insert(c.op);
  for (const OpDef* op : all_ops()) {
    EXPECT_TRUE(op->grad == nullptr || covered.count(op->name)) << op->name << " has no gradient test case";
  }
}

}  // namespace
}  // namespace stratum
