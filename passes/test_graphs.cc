#include "passes/test_graphs.h"

#include "ir/error.h"

namespace stratum {

namespace {

TensorType f32(Shape shape) { return {DType::f32, std::move(shape)}; }

Value* param(Graph& graph, std::string name, Shape shape) {
  return graph.add_param(std::move(name), f32(std::move(shape)), {Init::kXavierUniform});
}

Value* node(Graph& graph, std::string_view op, std::vector<Value*> inputs, Attrs attrs = {},
            std::string name = "") {
  return graph.add_node(op, std::move(inputs), std::move(attrs), {std::move(name)})->output(0);
}

// 3x3 convolution, padding 1: keeps H and W.
Value* conv3x3(Graph& graph, Value* x, int64_t channels, const std::string& name) {
  Value* w = param(graph, name + ".weight", {channels, x->type().shape[1], 3, 3});
  return node(graph, "conv2d", {x, w}, {{"padding", Ints{1, 1}}}, name);
}

// flatten -> linear to 10 classes -> softmax_cross_entropy against %labels; %loss is the output.
void classify(Graph& graph, Value* features) {
  Value* flat = node(graph, "flatten", {features});
  Value* w = param(graph, "fc.weight", {10, flat->type().shape[1]});
  Value* logits = node(graph, "linear", {flat, w}, {}, "logits");
  Value* labels = graph.add_input("labels", {DType::i32, {features->type().shape[0]}});
  Node* loss = graph.add_node("softmax_cross_entropy", {logits, labels}, {}, {"loss", "correct"});
  graph.add_output(loss->output(0));
}

const Attrs kPool2x2 = {{"kernel", Ints{2, 2}}, {"stride", Ints{2, 2}}};

}  // namespace

std::unique_ptr<Graph> conv_chain_graph() {
  auto graph = std::make_unique<Graph>("conv_chain");
  Value* x = graph->add_input("x", f32({8, 1, 28, 28}));
  Value* r1 = node(*graph, "relu", {conv3x3(*graph, x, 6, "conv1")}, {}, "relu1");
  Value* pooled = node(*graph, "max_pool", {r1}, kPool2x2);
  Value* r2 = node(*graph, "relu", {conv3x3(*graph, pooled, 16, "conv2")}, {}, "relu2");
  classify(*graph, r2);
  return graph;
}

std::unique_ptr<Graph> residual_graph() {
  auto graph = std::make_unique<Graph>("residual");
  Value* x = graph->add_input("x", f32({8, 16, 14, 14}));
  Value* skip = node(*graph, "relu", {conv3x3(*graph, x, 16, "c1")}, {}, "skip");
  Value* r2 = node(*graph, "relu", {conv3x3(*graph, skip, 16, "c2")}, {}, "r2");
  Value* sum = node(*graph, "add", {conv3x3(*graph, r2, 16, "c3"), skip}, {}, "sum");
  classify(*graph, node(*graph, "global_avg_pool", {node(*graph, "relu", {sum})}));
  return graph;
}

std::unique_ptr<Graph> concat_graph() {
  auto graph = std::make_unique<Graph>("concat");
  Value* x = graph->add_input("x", f32({8, 3, 16, 16}));
  Value* a = conv3x3(*graph, x, 8, "a");
  Value* ra = node(*graph, "relu", {a}, {}, "ra");
  Value* cat = node(*graph, "concat", {a, ra, conv3x3(*graph, x, 8, "b")}, {}, "cat");
  classify(*graph, node(*graph, "max_pool", {cat}, kPool2x2));
  return graph;
}

std::unique_ptr<Graph> batch_norm_graph() {
  auto graph = std::make_unique<Graph>("batch_norm");
  Value* x = graph->add_input("x", f32({8, 3, 8, 8}));
  Value* c = conv3x3(*graph, x, 4, "conv");
  Value* gamma = graph->add_param("bn.gamma", f32({4}), {Init::kOnes});
  Value* beta = graph->add_param("bn.beta", f32({4}), {Init::kZeros});
  Value* mean = graph->add_state("bn.mean", f32({4}), {Init::kZeros});
  Value* var = graph->add_state("bn.var", f32({4}), {Init::kOnes});
  Node* bn = graph->add_node("batch_norm", {c, gamma, beta, mean, var}, {},
                             {"bn", "bn.saved_mean", "bn.saved_var", "bn.new_mean", "bn.new_var"});
  graph->add_update(mean, bn->output(3));
  graph->add_update(var, bn->output(4));
  graph->add_output(node(*graph, "relu", {bn->output(0)}, {}, "out"));
  return graph;
}

std::unique_ptr<Graph> sgd_step_graph() {
  auto graph = std::make_unique<Graph>("sgd_step");
  Value* x = graph->add_input("x", f32({32, 64}));
  Value* labels = graph->add_input("labels", {DType::i32, {32}});
  Value* w = param(*graph, "w", {10, 64});
  Value* b = graph->add_param("b", f32({10}), {Init::kZeros});
  Value* logits = node(*graph, "linear", {x, w, b}, {}, "logits");
  Node* loss = graph->add_node("softmax_cross_entropy", {logits, labels}, {}, {"loss", "correct"});
  Value* one = node(*graph, "fill", {}, {{"value", 1.0}});
  Value* dlogits = node(*graph, "softmax_cross_entropy_grad", {one, logits, labels}, {}, "dlogits");
  Value* dw = node(*graph, "linear_grad_weight", {dlogits, x}, {}, "dw");
  Value* db = node(*graph, "bias_grad", {dlogits}, {}, "db");
  Value* lr = node(*graph, "fill", {}, {{"value", 0.1}}, "lr");
  graph->add_update(w, node(*graph, "sgd_update", {w, dw, lr}, {}, "w.new"));
  graph->add_update(b, node(*graph, "sgd_update", {b, db, lr}, {}, "b.new"));
  graph->add_output(loss->output(0));
  graph->add_output(loss->output(1));
  return graph;
}

std::unique_ptr<Graph> transition_graph() {
  auto graph = std::make_unique<Graph>("transition");
  Value* x = graph->add_input("x", f32({8, 16, 8, 8}));
  Value* w = param(*graph, "t.weight", {8, 16, 1, 1});
  Value* b = graph->add_param("t.bias", f32({8}), {Init::kUniform, 0.5});
  Value* t = node(*graph, "avg_pool", {node(*graph, "conv2d", {x, w, b}, {}, "t")}, kPool2x2, "t.pooled");
  Value* c = conv3x3(*graph, t, 8, "c");
  classify(*graph, node(*graph, "relu", {node(*graph, "avg_pool", {c}, kPool2x2, "c.pooled")}));
  return graph;
}

std::vector<std::unique_ptr<Graph>> all_test_graphs() {
  std::vector<std::unique_ptr<Graph>> graphs;
  for (auto make :
       {conv_chain_graph, residual_graph, concat_graph, batch_norm_graph, sgd_step_graph, transition_graph}) {
    graphs.push_back(make());
  }
  return graphs;
}

std::string error_message(const std::function<void()>& body) {
  try {
    body();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace stratum
