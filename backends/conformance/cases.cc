#include "backends/conformance/cases.h"

#include <fmt/format.h>

#include <optional>

#include "ir/error.h"

namespace stratum::conformance {

namespace {

TensorType f32(Shape shape) { return {DType::f32, std::move(shape)}; }

using Outputs = std::vector<Value*>;

// The example's op on graph inputs x0, x1, ..., every output of it a graph output.
Case example_case(const OpDef& op, OpExample example) {
  Case c{op.name, example_label(op, example), nullptr};
  for (size_t i = 0; i < example.inputs.size(); ++i)
    c.fills["x" + std::to_string(i)] = example.inputs[i].fill;
  c.build = [&op, example] {
    auto graph = std::make_unique<Graph>("case");
    std::vector<Value*> inputs;
    for (size_t i = 0; i < example.inputs.size(); ++i)
      inputs.push_back(graph->add_input("x" + std::to_string(i), example.inputs[i].type));
    for (Value* output : graph->add_node(op.name, inputs, example.attrs)->outputs())
      graph->add_output(output);
    return graph;
  };
  c.differentiable =
      op.grad != nullptr && example.differentiable && !is_fused(op, example.attrs, example.inputs.size());
  return c;
}

// The example with every f32 input of rank 2 or more in bf16, as passes/bf16 casts activations and weights;
// none when the op takes no bf16 there (softmax, the loss, the updates) or the example has no such input.
std::optional<OpExample> bf16_variant(const OpDef& op, OpExample example) {
  std::vector<TensorType> types;
  bool any = false;
  for (ExampleInput& input : example.inputs) {
    if (input.type.dtype == DType::f32 && input.type.rank() >= 2) {
      input.type.dtype = DType::bf16;
      any = true;
    }
    types.push_back(input.type);
  }
  try {
    const Attrs attrs = complete_attrs(op, example.attrs);
    op.infer(OpCall{op.name, types, attrs});
  } catch (const Error&) {
    return std::nullopt;
  }
  return any ? std::optional(example) : std::nullopt;
}

// Fused ops after the op whose workspace or layout they read.
void add_chain_cases(std::vector<Case>& cases) {
  auto chain = [&](std::string op, std::string name, std::function<Outputs(Graph&)> body) {
    auto build = [body] {
      auto graph = std::make_unique<Graph>("case");
      for (Value* output : body(*graph)) graph->add_output(output);
      return graph;
    };
    cases.push_back({std::move(op), std::move(name), build, false, {{"var", Fill::kPositive}}});
  };
  auto input = [](Graph& g, const char* name, Shape shape) {
    return g.add_input(name, f32(std::move(shape)));
  };
  auto norm_inputs = [input](Graph& g, int64_t channels) {
    std::vector<Value*> in;
    for (const char* name : {"gamma", "beta", "mean", "var"}) in.push_back(input(g, name, {channels}));
    return in;
  };
  chain("batch_norm_grad", "batch_norm_grad relu after batch_norm relu", [=](Graph& g) {
    std::vector<Value*> n = norm_inputs(g, 3);  // gamma, beta, mean, var
    Value* x = input(g, "x", {2, 3, 5, 5});
    Node* bn = g.add_node("batch_norm", {x, n[0], n[1], n[2], n[3]}, {{"relu", true}});
    Node* grad = g.add_node("batch_norm_grad",
                            {input(g, "dy", {2, 3, 5, 5}), x, n[0], bn->output(1), bn->output(2), n[1]},
                            {{"relu", true}});
    return Outputs(grad->outputs().begin(), grad->outputs().end());
  });
  // Without dx (a net's first conv), which a plugin need not compute.
  for (const auto& [with_relu, with_dx] :
       {std::pair{true, true}, {false, true}, {true, false}, {false, false}}) {
    chain("conv_bn_grad",
          fmt::format("conv_bn_grad after conv_bn{}{}", with_relu ? " relu" : "", with_dx ? "" : ", no dx"),
          [=](Graph& g) {
            std::vector<Value*> n = norm_inputs(g, 4);
            Value *x = input(g, "x", {2, 3, 6, 6}), *w = input(g, "w", {4, 3, 3, 3});
            const Attrs attrs = {{"relu", with_relu}, {"padding", Ints{1, 1}}};
            Node* forward = g.add_node("conv_bn", {x, w, input(g, "b", {4}), n[0], n[1], n[2], n[3]}, attrs);
            Node* grad = g.add_node("conv_bn_grad",
                                    {input(g, "dy", {2, 4, 6, 6}), x, w, forward->output(1), n[0], n[1],
                                     forward->output(2), forward->output(3)},
                                    attrs);
            Outputs out(forward->outputs().begin(), forward->outputs().end());
            out.insert(out.end(), grad->outputs().begin() + (with_dx ? 0 : 1), grad->outputs().end());
            return out;
          });
  }
  chain("concat_batch_norm", "concat_batch_norm of convs' 16+32 channels relu", [=](Graph& g) {
    Value* x = input(g, "x", {2, 3, 6, 6});
    std::vector<Value*> in;
    for (int64_t channels : {16, 32}) {
      Value* w = input(g, channels == 16 ? "w16" : "w32", {channels, 3, 3, 3});
      in.push_back(g.add_node("conv2d", {x, w}, {{"padding", Ints{1, 1}}})->output());
    }
    for (Value* n : norm_inputs(g, 48)) in.push_back(n);
    return Outputs{g.add_node("concat_batch_norm", in, {{"relu", true}})->output()};
  });
  // avg_pool_sigmoid_grad on y in a conv's layout, the windows tiling (k2 s2 of 7×7: the last row and column
  // are in no window).
  chain("avg_pool_sigmoid_grad", "avg_pool_sigmoid_grad k2 s2 of a conv", [=](Graph& g) {
    Value* y = g.add_node("conv2d", {input(g, "x", {2, 3, 9, 9}), input(g, "w", {16, 3, 3, 3})})->output();
    const Attrs pool = {{"kernel", Ints{2, 2}}, {"stride", Ints{2, 2}}};
    return Outputs{g.add_node("avg_pool_sigmoid_grad", {y, input(g, "dy", {2, 16, 3, 3})}, pool)->output()};
  });
}

}  // namespace

std::vector<Case> all_cases() {
  std::vector<Case> cases;
  for (const OpDef* op : all_ops()) {
    for (const OpExample& example : op->examples) cases.push_back(example_case(*op, example));
    if (auto bf16 = bf16_variant(*op, op->examples.at(0))) {  // bf16's tolerance hides the others' detail
      cases.push_back(example_case(*op, *bf16));
      cases.back().differentiable = false;
    }
  }
  add_chain_cases(cases);
  return cases;
}

}  // namespace stratum::conformance
