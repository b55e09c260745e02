// Every differentiable op's gradient builder, on each of the op's examples (OpDef::examples), run on the
// reference kernels, against central finite differences of L = Σ r·y for a random weighting r of the op's
// first output (the only one any gradient builder differentiates: batch_norm's other outputs are statistics,
// the loss's second is a count).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <set>

#include "backends/random_feeds.h"
#include "backends/reference/interpreter.h"
#include "ir/error.h"
#include "ir/op.h"

namespace stratum {
namespace {

// One example of a differentiable op (OpDef::examples).
struct GradCase {
  const OpDef* op;
  const OpExample* example;
};

void PrintTo(const GradCase& c, std::ostream* os) { *os << example_label(*c.op, *c.example); }

// Whether the example reads or writes bf16: a finite difference of a step of 1e-2 would measure bf16's
// rounding (a relative 2^-9). Such examples check plugins; the gradient builders are the f32 examples'.
bool involves_bf16(const OpDef& op, const OpExample& example) {
  std::vector<TensorType> types;
  for (const ExampleInput& input : example.inputs) types.push_back(input.type);
  const Attrs attrs = complete_attrs(op, example.attrs);
  for (const TensorType& output : op.infer(OpCall{op.name, types, attrs})) types.push_back(output);
  return std::any_of(types.begin(), types.end(), [](const TensorType& t) { return t.dtype == DType::bf16; });
}

// The examples of ops with a gradient, but their fused forms (which autodiff refuses) and those in bf16.
// (An op without examples fails ir/ops_test.)
std::vector<GradCase> grad_cases() {
  std::vector<GradCase> cases;
  for (const OpDef* op : all_ops()) {
    for (const OpExample& example : op->examples) {
      if (op->grad != nullptr && !is_fused(*op, example.attrs, example.inputs.size()) &&
          !involves_bf16(*op, example))
        cases.push_back({op, &example});
    }
  }
  return cases;
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
  for (size_t i = 0; i < c.example->inputs.size(); ++i) {
    inputs.push_back(g.graph.add_input("x" + std::to_string(i), c.example->inputs[i].type));
  }
  g.node = g.graph.add_node(c.op->name, inputs, c.example->attrs);
  std::vector<Value*> output_grads(g.node->outputs().size(), nullptr);
  output_grads[0] = g.graph.add_input("r", g.node->output(0)->type());
  g.grads = c.op->grad(GradCall{g.graph, *g.node, output_grads});
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
  const std::vector<ExampleInput>& in = c.example->inputs;
  GradGraph g;
  if (!c.example->differentiable) {
    EXPECT_THROW(build(c, g), Error) << "the example says its gradient builder refuses it";
    return;
  }
  build(c, g);
  ASSERT_EQ(g.grads.size(), in.size()) << c.op->name << "'s gradient builder returned the wrong count";

  std::mt19937_64 rng(std::hash<std::string>()(example_label(*c.op, *c.example)));
  std::map<std::string, Tensor> feeds;
  for (size_t i = 0; i < in.size(); ++i)
    feeds["x" + std::to_string(i)] = random_tensor(in[i].type, rng, /*classes=*/3, in[i].fill);
  feeds["r"] = random_tensor(g.node->output(0)->type(), rng);

  Interpreter interpreter(g.graph);
  weighted_sum(interpreter, g, feeds);
  std::vector<Tensor> analytic;  // zeros where the builder says no gradient flows
  for (size_t i = 0; i < in.size(); ++i)
    analytic.push_back(g.grads[i] ? interpreter.value(g.grads[i]) : Tensor(in[i].type));

  const float h = 1e-2f;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i].type.dtype != DType::f32) continue;
    const std::string name = "x" + std::to_string(i);
    ASSERT_EQ(analytic[i].type(), in[i].type) << "input " << i << ": gradient type";
    for (int64_t e = 0; e < analytic[i].size(); ++e) {
      std::map<std::string, Tensor> plus = feeds, minus = feeds;
      const float x = feeds[name].f32()[e];
      plus[name].f32()[e] = x + h;
      minus[name].f32()[e] = x - h;
      const double numeric = (weighted_sum(interpreter, g, plus) - weighted_sum(interpreter, g, minus)) /
                             (double(x + h) - double(x - h));
      const double exact = analytic[i].f32()[e];
      const double tolerance = 1e-3 + 5e-3 * std::max(std::abs(exact), std::abs(numeric));
      EXPECT_NEAR(exact, numeric, tolerance) << "input " << i << " element " << e;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(EveryExample, GradientTest, ::testing::ValuesIn(grad_cases()),
                         [](const ::testing::TestParamInfo<GradCase>& info) {
                           return info.param.op->name + "_" + std::to_string(info.index);
                         });

TEST(GradientCoverage, EveryDifferentiableOpHasAnUnfusedExample) {
  std::set<std::string> covered;
  for (const GradCase& c : grad_cases()) covered.insert(c.op->name);
  for (const OpDef* op : all_ops()) {
    EXPECT_TRUE(op->grad == nullptr || covered.count(op->name)) << op->name << " has no unfused example";
  }
}

}  // namespace
}  // namespace stratum
