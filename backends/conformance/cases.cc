#include "backends/conformance/cases.h"

#include <fmt/format.h>

#include "ir/builder.h"

namespace stratum::conformance {

namespace {

TensorType f32(Shape shape) { return {DType::f32, std::move(shape)}; }

using Outputs = std::vector<Value*>;

// A case whose graph `body` builds, returning the graph's outputs (the op's result first).
Case make_multi_case(std::string op, std::string name, std::function<Outputs(Builder&, Graph&)> body,
                     bool differentiable = true) {
  auto build = [body] {
    auto graph = std::make_unique<Graph>("case");
    Builder b(*graph);
    for (Value* output : body(b, *graph)) graph->add_output(output);
    return graph;
  };
  return {std::move(op), std::move(name), build, differentiable};
}

// A case with one output.
Case make_case(std::string op, std::string name, std::function<Value*(Builder&, Graph&)> body,
               bool differentiable = true) {
  return make_multi_case(
      std::move(op), std::move(name), [body](Builder& b, Graph& g) { return Outputs{body(b, g)}; },
      differentiable);
}

void add_conv_cases(std::vector<Case>& cases) {
  struct Conv {
    Shape x;
    int64_t out, k;
    ConvAttrs attrs;
    bool bias;
  };
  const Conv convs[] = {
      {{2, 3, 7, 7}, 4, 3, {}, true},
      {{1, 3, 9, 9}, 5, 3, {.stride = {2, 2}, .padding = {1, 1}}, true},
      {{2, 4, 8, 8}, 6, 3, {.padding = {1, 1}, .groups = 2}, false},
      {{2, 2, 9, 7}, 3, 3, {.stride = {1, 2}, .padding = {2, 1}, .dilation = {2, 1}}, true},
      {{1, 1, 28, 28}, 6, 5, {.padding = {2, 2}}, true},
      {{2, 3, 11, 11}, 8, 11, {.stride = {4, 4}, .padding = {1, 1}}, true},
      {{2, 6, 5, 5}, 6, 1, {.groups = 3}, true},
  };
  for (const Conv& c : convs) {
    const std::string name = fmt::format("conv2d x{} k{} s{} p{} d{} g{}{}", shape_str(c.x), c.k,
                                         attr_str(c.attrs.stride), attr_str(c.attrs.padding),
                                         attr_str(c.attrs.dilation), c.attrs.groups, c.bias ? " bias" : "");
    cases.push_back(make_case("conv2d", name, [c](Builder& b, Graph& g) {
      Value* x = g.add_input("x", f32(c.x));
      Value* w = g.add_input("w", f32({c.out, c.x[1] / c.attrs.groups, c.k, c.k}));
      return b.conv2d(x, w, c.bias ? g.add_input("b", f32({c.out})) : nullptr, c.attrs);
    }));
  }
}

void add_norm_cases(std::vector<Case>& cases) {
  for (Shape x : {Shape{2, 3, 5, 5}, Shape{1, 4, 3, 3}, Shape{6, 5}}) {
    for (bool training : {true, false}) {
      cases.push_back(make_multi_case(
          "batch_norm", fmt::format("batch_norm x{} {}", shape_str(x), training ? "training" : "inference"),
          [x, training](Builder& b, Graph& g) {
            const TensorType c = f32({x[1]});
            Value* in = g.add_input("x", f32(x));
            BatchNormOutputs bn =
                b.batch_norm(in, g.add_input("gamma", c), g.add_input("beta", c), g.add_input("mean", c),
                             g.add_input("var", c), {.momentum = 0.2, .training = training});
            if (!training) return Outputs{bn.y};
            return Outputs{bn.y, bn.new_running_mean, bn.new_running_var};
          },
          training));
    }
  }
}

void add_pool_cases(std::vector<Case>& cases) {
  const std::pair<Shape, PoolAttrs> pools[] = {
      {{2, 3, 8, 8}, {.kernel = {2, 2}, .stride = {2, 2}}},
      {{1, 2, 9, 9}, {.kernel = {3, 3}, .stride = {2, 2}, .padding = {1, 1}}},
      {{2, 3, 7, 10}, {.kernel = {3, 2}, .stride = {1, 2}, .padding = {1, 0}}},
      {{2, 4, 13, 13}, {.kernel = {3, 3}, .stride = {2, 2}}},
  };
  auto add = [&cases](const std::string& op, const Shape& x, const PoolAttrs& attrs) {
    const std::string name =
        fmt::format("{} x{} k{} s{} p{}{}", op, shape_str(x), attr_str(attrs.kernel), attr_str(attrs.stride),
                    attr_str(attrs.padding), attrs.count_include_pad ? "" : " excluding padding");
    cases.push_back(make_case(op, name, [op, x, attrs](Builder& b, Graph& g) {
      Value* in = g.add_input("x", f32(x));
      return op == "max_pool" ? b.max_pool(in, attrs) : b.avg_pool(in, attrs);
    }));
  };
  for (const auto& [x, attrs] : pools) {
    add("max_pool", x, attrs);
    add("avg_pool", x, attrs);
    PoolAttrs excluding = attrs;
    excluding.count_include_pad = false;
    if (attrs.padding != Ints{0, 0}) add("avg_pool", x, excluding);  // else the divisor is the same
  }
  for (Shape x : {Shape{2, 5, 3, 3}, Shape{1, 7, 6, 5}}) {
    cases.push_back(
        make_case("global_avg_pool", "global_avg_pool x" + shape_str(x),
                  [x](Builder& b, Graph& g) { return b.global_avg_pool(g.add_input("x", f32(x))); }));
  }
}

void add_elementwise_cases(std::vector<Case>& cases) {
  for (Shape x : {Shape{2, 3, 5, 5}, Shape{7, 9}, Shape{1, 1, 1, 1}}) {
    const std::string shape = shape_str(x);
    cases.push_back(make_case("relu", "relu x" + shape,
                              [x](Builder& b, Graph& g) { return b.relu(g.add_input("x", f32(x))); }));
    cases.push_back(make_case("sigmoid", "sigmoid x" + shape,
                              [x](Builder& b, Graph& g) { return b.sigmoid(g.add_input("x", f32(x))); }));
    cases.push_back(make_case("add", "add x" + shape, [x](Builder& b, Graph& g) {
      return b.add(g.add_input("a", f32(x)), g.add_input("b", f32(x)));
    }));
    for (bool training : {true, false}) {
      cases.push_back(
          make_case("dropout", fmt::format("dropout x{} p0.3 {}", shape, training ? "training" : "inference"),
                    [x, training](Builder& b, Graph& g) {
                      Value* key = g.add_input("key", {DType::i32, {}});
                      return b.dropout(g.add_input("x", f32(x)), key, 0.3, 11, training);
                    }));
    }
  }
}

// softmax along the first, a middle and the last axis of ranks 1 to 4, lines of one element included.
void add_softmax_cases(std::vector<Case>& cases) {
  const std::pair<Shape, int64_t> softmaxes[] = {
      {{10}, 0},      {{7, 9}, 1},       {{7, 9}, 0},       {{3, 1, 5}, 1},
      {{3, 4, 5}, 2}, {{2, 3, 5, 5}, 1}, {{2, 3, 5, 5}, 3}, {{2, 3, 4, 5}, 0},
  };
  for (const auto& [x, axis] : softmaxes) {
    cases.push_back(make_case(
        "softmax", fmt::format("softmax x{} axis {}", shape_str(x), axis),
        [x = x, axis = axis](Builder& b, Graph& g) { return b.softmax(g.add_input("x", f32(x)), axis); }));
  }
}

void add_shape_and_linear_cases(std::vector<Case>& cases) {
  cases.push_back(make_case("flatten", "flatten x[2,3,4,5]", [](Builder& b, Graph& g) {
    return b.flatten(g.add_input("x", f32({2, 3, 4, 5})));
  }));
  cases.push_back(make_case("reshape", "reshape x[2,60] to [2,3,4,5]", [](Builder& b, Graph& g) {
    return b.reshape(g.add_input("x", f32({2, 60})), {2, 3, 4, 5});
  }));
  cases.push_back(make_case("concat", "concat of 3 along channels", [](Builder& b, Graph& g) {
    return b.concat({g.add_input("a", f32({2, 3, 4, 4})), g.add_input("b", f32({2, 1, 4, 4})),
                     g.add_input("c", f32({2, 5, 4, 4}))});
  }));
  cases.push_back(make_case("concat", "concat of 2 along the batch", [](Builder& b, Graph& g) {
    return b.concat({g.add_input("a", f32({2, 7})), g.add_input("b", f32({3, 7}))}, 0);
  }));
  cases.push_back(make_case(
      "slice", "slice x[2,9,3,3] channels 2..7",
      [](Builder&, Graph& g) {
        Value* x = g.add_input("x", f32({2, 9, 3, 3}));
        return g.add_node("slice", {x}, {{"axis", int64_t{1}}, {"begin", int64_t{2}}, {"end", int64_t{7}}})
            ->output(0);
      },
      false));
  for (auto [n, k, m, bias] : {std::tuple{4, 9, 5, true}, {1, 16, 3, true}, {7, 6, 10, false}}) {
    cases.push_back(make_case("linear", fmt::format("linear [{},{}] -> {}{}", n, k, m, bias ? " bias" : ""),
                              [n = n, k = k, m = m, bias = bias](Builder& b, Graph& g) {
                                Value* x = g.add_input("x", f32({n, k}));
                                Value* w = g.add_input("w", f32({m, k}));
                                return b.linear(x, w, bias ? g.add_input("b", f32({m})) : nullptr);
                              }));
  }
}

void add_loss_and_update_cases(std::vector<Case>& cases) {
  for (auto [n, k] : {std::pair{8, 10}, {1, 3}, {5, 7}}) {
    cases.push_back(
        make_multi_case("softmax_cross_entropy", fmt::format("softmax_cross_entropy [{},{}]", n, k),
                        [n = n, k = k](Builder& b, Graph& g) {
                          LossOutputs loss = b.softmax_cross_entropy(
                              g.add_input("logits", f32({n, k})), g.add_input("labels", {DType::i32, {n}}));
                          return Outputs{loss.loss, loss.correct};
                        }));
  }
  cases.push_back(make_case(
      "sgd_update", "sgd_update [6,1,5,5] lr 0.9",
      [](Builder&, Graph& g) {
        Value* w = g.add_input("w", f32({6, 1, 5, 5}));
        return g.add_node("sgd_update", {w, g.add_input("g", f32({6, 1, 5, 5}))}, {{"lr", 0.9}})->output(0);
      },
      false));
  cases.push_back(make_case(
      "fill", "fill [3,4] with 0.25",
      [](Builder&, Graph& g) {
        return g.add_node("fill", {}, {{"value", 0.25}, {"shape", Ints{3, 4}}})->output(0);
      },
      false));
}

// The fused ops, alone and (for the backward ones) after the forward whose workspace they may reuse.
void add_fused_cases(std::vector<Case>& cases) {
  auto fused = [&](std::string op, std::string name, std::function<Outputs(Graph&)> body) {
    cases.push_back(make_multi_case(
        op, name, [body](Builder&, Graph& g) { return body(g); }, false));
  };
  auto input = [](Graph& g, const char* name, Shape shape) {
    return g.add_input(name, f32(std::move(shape)));
  };
  const Attrs relu = {{"relu", true}};
  for (const char* op : {"conv2d", "linear", "add"}) {
    fused(op, fmt::format("{} relu", op), [op, relu, input](Graph& g) {
      const std::string o = op;
      Value* x = input(g, "x", o == "linear" ? Shape{5, 7} : Shape{2, 3, 7, 7});
      Value* w = o == "conv2d"   ? input(g, "w", {4, 3, 3, 3})
                 : o == "linear" ? input(g, "w", {6, 7})
                                 : input(g, "w", {2, 3, 7, 7});
      std::vector<Value*> in = {x, w};
      if (o != "add") in.push_back(input(g, "b", {o == "conv2d" ? 4 : 6}));
      return Outputs{g.add_node(op, in, relu)->output()};
    });
  }
  for (bool with_relu : {true, false}) {
    fused("conv2d", fmt::format("conv2d residual{}", with_relu ? " relu" : ""), [=](Graph& g) {
      Attrs attrs = {{"relu", with_relu}, {"padding", Ints{1, 1}}, {"stride", Ints{2, 2}}};
      Value* r = input(g, "r", {2, 8, 5, 5});
      return Outputs{
          g.add_node("conv2d",
                     {input(g, "x", {2, 4, 9, 9}), input(g, "w", {8, 4, 3, 3}), input(g, "b", {8}), r}, attrs)
              ->output()};
    });
  }
  auto norm_inputs = [input](Graph& g, int64_t channels) {
    std::vector<Value*> in;
    for (const char* name : {"gamma", "beta", "mean", "var"}) in.push_back(input(g, name, {channels}));
    return in;
  };
  for (bool training : {true, false}) {
    fused("batch_norm", fmt::format("batch_norm relu {}", training ? "training" : "inference"),
          [=](Graph& g) {
            std::vector<Value*> in = norm_inputs(g, 3);
            in.insert(in.begin(), input(g, "x", {2, 3, 5, 5}));
            Node* bn = g.add_node("batch_norm", in, {{"relu", true}, {"training", training}});
            return Outputs(bn->outputs().begin(), bn->outputs().end());
          });
  }
  // batch_norm_grad{relu} alone, and after the batch_norm{relu} whose statistics it reads.
  for (bool after_forward : {false, true}) {
    fused("batch_norm_grad", fmt::format("batch_norm_grad relu{}", after_forward ? " after forward" : ""),
          [=](Graph& g) {
            std::vector<Value*> n = norm_inputs(g, 3);  // gamma, beta, mean, var
            Value* x = input(g, "x", {2, 3, 5, 5});
            Value *mean = n[2], *var = n[3];
            if (after_forward) {
              Node* bn = g.add_node("batch_norm", {x, n[0], n[1], n[2], n[3]}, {{"relu", true}});
              mean = bn->output(1), var = bn->output(2);
            }
            Node* grad =
                g.add_node("batch_norm_grad", {input(g, "dy", {2, 3, 5, 5}), x, n[0], mean, var, n[1]}, relu);
            return Outputs(grad->outputs().begin(), grad->outputs().end());
          });
  }
  for (bool with_relu : {true, false}) {
    fused("conv_bn_grad", fmt::format("conv_bn and conv_bn_grad{}", with_relu ? " relu" : ""), [=](Graph& g) {
      std::vector<Value*> n = norm_inputs(g, 4);
      Value *x = input(g, "x", {2, 3, 6, 6}), *w = input(g, "w", {4, 3, 3, 3});
      const Attrs attrs = {{"relu", with_relu}, {"padding", Ints{1, 1}}};
      Node* forward = g.add_node("conv_bn", {x, w, input(g, "b", {4}), n[0], n[1], n[2], n[3]}, attrs);
      Node* grad = g.add_node("conv_bn_grad",
                              {input(g, "dy", {2, 4, 6, 6}), x, w, forward->output(1), n[0], n[1],
                               forward->output(2), forward->output(3)},
                              attrs);
      Outputs out(forward->outputs().begin(), forward->outputs().end());
      out.insert(out.end(), grad->outputs().begin(), grad->outputs().end());
      return out;
    });
  }
  // concat_batch_norm of plain parts with odd channel counts, and of conv outputs (the plugins' own layouts).
  for (bool with_relu : {true, false}) {
    fused("concat_batch_norm", fmt::format("concat_batch_norm 3+1+5 channels{}", with_relu ? " relu" : ""),
          [=](Graph& g) {
            std::vector<Value*> in = {input(g, "a", {2, 3, 4, 5}), input(g, "b", {2, 1, 4, 5}),
                                      input(g, "c", {2, 5, 4, 5})};
            for (Value* n : norm_inputs(g, 9)) in.push_back(n);
            return Outputs{g.add_node("concat_batch_norm", in, {{"relu", with_relu}})->output()};
          });
  }
  fused("concat_batch_norm", "concat_batch_norm of convs' 16+32 channels relu", [=](Graph& g) {
    Value* x = input(g, "x", {2, 3, 6, 6});
    std::vector<Value*> in;
    for (int64_t channels : {16, 32}) {
      Value* w = input(g, channels == 16 ? "w16" : "w32", {channels, 3, 3, 3});
      in.push_back(g.add_node("conv2d", {x, w}, {{"padding", Ints{1, 1}}})->output());
    }
    for (Value* n : norm_inputs(g, 48)) in.push_back(n);
    return Outputs{g.add_node("concat_batch_norm", in, relu)->output()};
  });
  // avg_pool_sigmoid_grad where the windows tile (k2 s2 of 7×7: the last row and column are in no window) and
  // where they overlap (k3 s2 p1), on plain y and on y in a conv's layout.
  for (const auto& [kernel, conv] : {std::pair{2, false}, {3, false}, {2, true}}) {
    fused(
        "avg_pool_sigmoid_grad",
        fmt::format("avg_pool_sigmoid_grad k{} s2{}", kernel, conv ? " of a conv" : ""),
        [=, kernel = int64_t{kernel}, conv = conv](Graph& g) {
          const int64_t padding = kernel / 2 - (kernel % 2 == 0), channels = conv ? 16 : 3;
          const Attrs pool = {
              {"kernel", Ints{kernel, kernel}}, {"stride", Ints{2, 2}}, {"padding", Ints{padding, padding}}};
          Value* y = conv ? g.add_node("conv2d", {input(g, "x", {2, 3, 9, 9}), input(g, "w", {16, 3, 3, 3})})
                                ->output()
                          : input(g, "y", {2, 3, 7, 7});
          const int64_t pooled = (7 + 2 * padding - kernel) / 2 + 1;
          Value* dy = input(g, "dy", {2, channels, pooled, pooled});
          return Outputs{g.add_node("avg_pool_sigmoid_grad", {y, dy}, pool)->output()};
        });
  }
  fused("fold_batch_norm", "fold_batch_norm", [=](Graph& g) {
    std::vector<Value*> in = norm_inputs(g, 4);
    in.insert(in.begin(), {input(g, "w", {4, 3, 3, 3}), input(g, "b", {4})});
    Node* fold = g.add_node("fold_batch_norm", in);
    return Outputs{fold->output(0), fold->output(1)};
  });
}

}  // namespace

std::vector<Case> all_cases() {
  std::vector<Case> cases;
  add_conv_cases(cases);
  add_norm_cases(cases);
  add_pool_cases(cases);
  add_elementwise_cases(cases);
  add_softmax_cases(cases);
  add_shape_and_linear_cases(cases);
  add_loss_and_update_cases(cases);
  add_fused_cases(cases);
  return cases;
}

}  // namespace stratum::conformance
