#include "passes/fusion.h"

#include <fmt/format.h>

#include <algorithm>
#include <iostream>
#include <map>
#include <set>

#include "ir/error.h"

namespace stratum {

namespace {

// What the rules share: the graph, the options, legality checks and the rewriting steps.
class Fuser {
 public:
  Fuser(Graph& graph, const FusionOptions& options, std::string_view pass)
      : graph_(graph), options_(options), pass_(pass) {}

  Graph& graph() { return graph_; }
  // Every node of the graph now, so that rules can rewrite while walking them.
  std::vector<Node*> nodes() const {
    std::vector<Node*> nodes;
    for (const auto& node : graph_.nodes()) nodes.push_back(node.get());
    return nodes;
  }

  // Says why `candidate` was not fused; returns false, for `return skip(...)`.
  bool skip(const Node& candidate, const std::string& why) {
    if (options_.explain)
      *options_.explain << fmt::format("{}: {}: not fused: {}\n", pass_, candidate.label(), why);
    return false;
  }

  // Why `value` cannot vanish into a fusion with its user `user`; empty when it can.
  std::string why_not_sole_user(const Value* value, const Node& user) const {
    if (value->users().size() != 1 || value->users()[0] != &user)
      return fmt::format("{} has {} users", describe(value), value->users().size());
    if (graph_.is_kept(value)) return fmt::format("{} is a graph output or update", describe(value));
    return "";
  }

  // Why `nodes` cannot become one node; empty when they can.
  std::string why_not_same_backend(std::initializer_list<const Node*> nodes) const {
    if (!options_.runs_on_plugin) return "";
    const bool first = options_.runs_on_plugin(**nodes.begin());
    for (const Node* node : nodes) {
      if (node && options_.runs_on_plugin(*node) != first) return "they run on different backends";
    }
    return "";
  }

  // Adds the fused node before `before`, backward where `chain` is; null (with the reason told) when the
  // backend that runs the chain does not run the fused node, which is then taken out again.
  Node* add(const Node& candidate, std::string_view op, std::vector<Value*> inputs, Attrs attrs,
            const Node* before, const Node* chain) {
    Node* fused = graph_.add_node(op, std::move(inputs), std::move(attrs), {}, before);
    graph_.set_backward(fused, chain->backward());
    if (options_.runs_on_plugin && options_.runs_on_plugin(*fused) != options_.runs_on_plugin(*chain)) {
      graph_.erase_node(fused);
      skip(candidate, fmt::format("the backend runs {} but not the fused {}", chain->op_name(), op));
      return nullptr;
    }
    return fused;
  }

  // `fused` takes over every use and the name of `old`.
  void take_over(Value* old, Value* fused) {
    const std::string name = old->name();
    graph_.replace_all_uses(old, fused);
    graph_.rename(old, "");
    graph_.rename(fused, name);
  }

  // Erases the nodes, which must be unused once taken in order.
  void erase(std::initializer_list<Node*> nodes) {
    for (Node* node : nodes) {
      if (node == nullptr) continue;
      erased_.insert(node);
      graph_.erase_node(node);
    }
    count();
  }
  // Erases `node` when nothing reads its outputs any more.
  void erase_if_unused(Node* node) {
    for (const Value* output : node->outputs()) {
      if (!output->users().empty() || graph_.is_kept(output)) return;
    }
    erased_.insert(node);
    graph_.erase_node(node);
  }
  void count() { ++fused_; }
  // Whether the node was erased (its address may since have been reused).
  bool erased(const Node* node) const { return erased_.count(node) != 0; }
  int fused() const { return fused_; }

 private:
  static std::string describe(const Value* value) {
    return value->producer() ? fmt::format("the {} output", value->producer()->op_name())
                             : fmt::format("%{}", value->name());
  }

  Graph& graph_;
  const FusionOptions& options_;
  std::string_view pass_;
  std::set<const Node*> erased_;
  int fused_ = 0;
};

// The layers of two nodes a rule fuses into one: the nodes it makes while this lives have both origins
// joined by '+' ("stem.conv+stem.bn", as MLIR's FusedLoc); once it has fused, merge() makes the two one
// layer, so that every other node of either, forward or backward (a batch norm's sigmoid, a param's
// sgd_update, a sum of gradients) joins it too.
class MergedLayers {
 public:
  MergedLayers(Graph& graph, const Node& a, const Node& b)
      : graph_(graph), a_(a.origin()), b_(b.origin()), scope_(graph, joined()) {}
  void merge() {
    for (const auto& node : graph_.nodes()) {
      if (!node->origin().empty() && (node->origin() == a_ || node->origin() == b_))
        graph_.set_origin(node.get(), joined());
    }
  }

 private:
  std::string joined() const { return a_.empty() || a_ == b_ ? b_ : b_.empty() ? a_ : a_ + "+" + b_; }
  Graph& graph_;
  const std::string a_, b_;
  Graph::OriginScope scope_;
};

Attrs conv_attrs(const Node& conv) {
  Attrs attrs;
  for (const char* name : {"stride", "padding", "dilation", "groups"}) attrs[name] = conv.attrs().at(name);
  return attrs;
}

// The unfused conv2d with a bias that produces `value`, or null with the reason in `why`.
Node* plain_conv_producing(const Value* value, std::string& why) {
  Node* conv = value->producer();
  if (conv == nullptr || conv->op_name() != "conv2d") {
    why = fmt::format("its input comes from {}, not a conv2d", conv ? conv->op_name() : "a leaf");
  } else if (conv->inputs().size() != 3) {
    why = "the conv2d has no bias";
  } else if (conv->attr_bool("relu")) {
    why = "the conv2d already applies a relu";
  } else {
    return conv;
  }
  return nullptr;
}

// The one user of `value` with that op that reads it as input `index`, or null.
Node* user_with(const Value* value, std::string_view op, size_t index) {
  for (Node* user : value->users()) {
    if (user->op_name() == op && user->input(index) == value) return user;
  }
  return nullptr;
}

// inference batch_norm(conv2d(x, w, b)) -> conv2d(x, fold_batch_norm(w, b, gamma, beta, mean, var))
bool fold_bn(Fuser& f, Node& bn) {
  if (bn.op_name() != "batch_norm" || bn.attr_bool("training") || bn.attr_bool("relu")) return false;
  std::string why;
  Node* conv = plain_conv_producing(bn.input(0), why);
  if (conv == nullptr) return f.skip(bn, why);
  if (why = f.why_not_sole_user(conv->output(), bn); !why.empty()) return f.skip(bn, why);
  if (why = f.why_not_same_backend({conv, &bn}); !why.empty()) return f.skip(bn, why);
  MergedLayers layers(f.graph(), *conv, bn);
  Value *w = conv->input(1), *b = conv->input(2);
  Node* fold = f.add(bn, "fold_batch_norm", {w, b, bn.input(1), bn.input(2), bn.input(3), bn.input(4)},
                     {{"eps", bn.attrs().at("eps")}}, &bn, &bn);
  if (fold == nullptr) return false;
  Node* folded = f.graph().add_node("conv2d", {conv->input(0), fold->output(0), fold->output(1)},
                                    conv_attrs(*conv), {}, &bn);
  f.take_over(bn.output(), folded->output());
  f.erase({&bn, conv});
  layers.merge();
  return true;
}

// The backward of a training batch_norm: its batch_norm_grad, and the relu_grad before it when the
// batch_norm's relu `relu` is differentiated. Null members, with the reason in `why`, when it does not
// have that shape.
struct BatchNormBackward {
  Node* relu_grad = nullptr;
  Node* bn_grad = nullptr;
};
BatchNormBackward find_backward(Fuser& f, const Node& bn, const Node* relu, std::string& why) {
  BatchNormBackward b;
  b.bn_grad = user_with(bn.output(1), "batch_norm_grad", 3);
  if (b.bn_grad == nullptr || b.bn_grad->input(1) != bn.input(0)) {
    why = "no batch_norm_grad differentiates it";
    return {};
  }
  if (relu == nullptr) return b;
  b.relu_grad = user_with(relu->output(), "relu_grad", 1);
  if (b.relu_grad == nullptr || b.bn_grad->input(0) != b.relu_grad->output()) {
    why = "the relu's gradient does not feed the batch_norm_grad";
    return {};
  }
  why = f.why_not_sole_user(b.relu_grad->output(), *b.bn_grad);
  return why.empty() ? b : BatchNormBackward{};
}

// The conv2d's gradient nodes reading dz: input, weight and bias gradients; false (with the reason) when
// something else reads dz or the weight or bias gradient is missing.
struct ConvGrads {
  Node *input = nullptr, *weight = nullptr, *bias = nullptr;
};
bool find_conv_grads(const Node& conv, const Value* dz, ConvGrads& grads, std::string& why) {
  for (Node* user : dz->users()) {
    const std::string& op = user->op_name();
    if (op == "conv2d_grad_input" && user->input(1) == conv.input(1) && !grads.input) {
      grads.input = user;
    } else if (op == "conv2d_grad_weight" && user->input(1) == conv.input(0) && !grads.weight) {
      grads.weight = user;
    } else if (op == "bias_grad" && !grads.bias) {
      grads.bias = user;
    } else {
      why = fmt::format("the conv's output gradient is also read by {}", user->label());
      return false;
    }
  }
  if (grads.weight && grads.bias) return true;
  why = "the conv's weight or bias gets no gradient";
  return false;
}

// training conv2d -> batch_norm [-> relu], with its backward, -> conv_bn and conv_bn_grad
bool fuse_conv_bn(Fuser& f, Node& bn) {
  if (bn.op_name() != "batch_norm" || !bn.attr_bool("training") || bn.attr_bool("relu")) return false;
  if (bn.attr_bool("sync")) return f.skip(bn, "its statistics are synchronised over the ranks");
  std::string why;
  Node* conv = plain_conv_producing(bn.input(0), why);
  if (conv == nullptr) return f.skip(bn, why);
  Node* relu = bn.output()->users().size() == 1 ? bn.output()->users()[0] : nullptr;
  if (relu && (relu->op_name() != "relu" || !f.why_not_sole_user(bn.output(), *relu).empty())) relu = nullptr;
  const BatchNormBackward back = find_backward(f, bn, relu, why);
  if (back.bn_grad == nullptr) return f.skip(bn, why);
  // z, the conv's output, is read by the batch_norm and its backward only.
  for (const Node* user : conv->output()->users()) {
    if (user != &bn && user != back.bn_grad)
      return f.skip(bn, "the conv2d's output is also read by " + user->label());
  }
  ConvGrads grads;
  if (!find_conv_grads(*conv, back.bn_grad->output(0), grads, why)) return f.skip(bn, why);
  if (f.graph().is_kept(back.bn_grad->output(0)))
    return f.skip(bn, "the conv's output gradient is a graph output");
  if (why = f.why_not_same_backend(
          {conv, &bn, relu, back.relu_grad, back.bn_grad, grads.input, grads.weight, grads.bias});
      !why.empty()) {
    return f.skip(bn, why);
  }

  MergedLayers layers(f.graph(), *conv, bn);
  Attrs attrs = conv_attrs(*conv);
  attrs["eps"] = bn.attrs().at("eps");
  attrs["relu"] = relu != nullptr;
  Attrs forward_attrs = attrs;
  forward_attrs["momentum"] = bn.attrs().at("momentum");
  Node* last = relu ? relu : &bn;
  Value *x = conv->input(0), *w = conv->input(1), *gamma = bn.input(1), *beta = bn.input(2);
  Node* fused = f.add(bn, "conv_bn", {x, w, conv->input(2), gamma, beta, bn.input(3), bn.input(4)},
                      forward_attrs, last, &bn);
  if (fused == nullptr) return false;
  Node* first_back = back.relu_grad ? back.relu_grad : back.bn_grad;
  Node* grad =
      f.add(bn, "conv_bn_grad",
            {first_back->input(0), x, w, fused->output(1), gamma, beta, fused->output(2), fused->output(3)},
            attrs, first_back, back.bn_grad);
  if (grad == nullptr) {
    f.graph().erase_node(fused);
    return false;
  }
  f.take_over(last->output(), fused->output(0));
  f.take_over(conv->output(), fused->output(1));
  for (int i = 1; i < 5; ++i) f.take_over(bn.output(i), fused->output(i + 1));
  if (grads.input) f.take_over(grads.input->output(), grad->output(0));
  f.take_over(grads.weight->output(), grad->output(1));
  f.take_over(grads.bias->output(), grad->output(2));
  f.take_over(back.bn_grad->output(1), grad->output(3));
  f.take_over(back.bn_grad->output(2), grad->output(4));
  f.erase({grads.bias, grads.weight, grads.input, back.bn_grad, back.relu_grad, relu, &bn, conv});
  layers.merge();
  return true;
}

// add(conv2d(x, w, b), r) -> conv2d(x, w, b, r)
bool fuse_residual(Fuser& f, Node& add) {
  if (add.op_name() != "add" || add.attr_bool("relu")) return false;
  std::string why;
  Node* conv = nullptr;
  for (Value* input : add.inputs()) {  // the later conv, when both inputs are convs
    std::string input_why;
    Node* candidate = plain_conv_producing(input, input_why);
    if (candidate && (input_why = f.why_not_sole_user(input, add)).empty()) {
      if (!conv || f.graph().index_of(candidate) > f.graph().index_of(conv)) conv = candidate;
    } else if (why.empty() || !candidate) {
      why = input_why;
    }
  }
  if (conv == nullptr) return f.skip(add, "neither input can be fused: " + why);
  if (why = f.why_not_same_backend({conv, &add}); !why.empty()) return f.skip(add, why);
  MergedLayers layers(f.graph(), *conv, add);
  Value* residual = add.input(add.input(0) == conv->output() ? 1 : 0);
  Node* fused = f.add(add, "conv2d", {conv->input(0), conv->input(1), conv->input(2), residual},
                      conv->attrs(), &add, &add);
  if (fused == nullptr) return false;
  f.take_over(add.output(), fused->output());
  f.erase({&add, conv});
  layers.merge();
  return true;
}

// op(...) -> relu -> op(...){relu}, for conv2d, linear, add and batch_norm; a training batch_norm's
// relu_grad -> batch_norm_grad becomes batch_norm_grad{relu}.
bool fuse_relu(Fuser& f, Node& relu) {
  if (relu.op_name() != "relu") return false;
  Node* producer = relu.input(0)->producer();
  static const std::set<std::string> kFusable = {"conv2d", "linear", "add", "batch_norm"};
  if (producer == nullptr || !kFusable.count(producer->op_name()))
    return f.skip(relu, fmt::format("its input comes from {}", producer ? producer->op_name() : "a leaf"));
  if (producer->attr_bool("relu")) return f.skip(relu, "its input is already a relu's");
  std::string why = f.why_not_sole_user(relu.input(0), relu);
  if (!why.empty()) return f.skip(relu, why);
  const bool training_bn = producer->op_name() == "batch_norm" && producer->attr_bool("training");
  BatchNormBackward back;
  if (training_bn && user_with(producer->output(1), "batch_norm_grad", 3)) {
    back = find_backward(f, *producer, &relu, why);
    if (back.bn_grad == nullptr) return f.skip(relu, why);
  }
  if (why = f.why_not_same_backend({producer, &relu, back.relu_grad, back.bn_grad}); !why.empty())
    return f.skip(relu, why);
  Graph::OriginScope origin(f.graph(), producer->origin());
  Attrs attrs = producer->attrs();
  attrs["relu"] = true;
  Node* fused = f.add(relu, producer->op_name(), producer->inputs(), attrs, &relu, producer);
  if (fused == nullptr) return false;
  Node* grad = nullptr;
  if (back.bn_grad) {
    std::vector<Value*> inputs = back.bn_grad->inputs();
    inputs[0] = back.relu_grad->input(0);
    inputs.push_back(producer->input(2));  // beta
    Attrs grad_attrs = back.bn_grad->attrs();
    grad_attrs["relu"] = true;
    grad = f.add(relu, "batch_norm_grad", inputs, grad_attrs, back.relu_grad, back.bn_grad);
    if (grad == nullptr) {
      f.graph().erase_node(fused);
      return false;
    }
  }
  f.take_over(relu.output(), fused->output(0));
  for (size_t i = 1; i < producer->outputs().size(); ++i) f.take_over(producer->output(i), fused->output(i));
  if (grad) {
    for (size_t i = 0; i < 3; ++i) f.take_over(back.bn_grad->output(i), grad->output(i));
  }
  f.erase({back.bn_grad, back.relu_grad, &relu, producer});
  return true;
}

bool is_channel_concat(const Node* node) {
  return node && node->op_name() == "concat" && node->attr_int("axis") == 1;
}

// The parts a channel concat joins, seen through the channel concats among them (on the same backend as
// `bn`): concat(concat(a, b), c) -> a, b, c. `concats` gets every concat looked through, outer first.
void concat_parts(Fuser& f, Node* concat, const Node& bn, std::vector<Value*>& parts,
                  std::vector<Node*>& concats) {
  concats.push_back(concat);
  for (Value* input : concat->inputs()) {
    Node* inner = input->producer();
    if (is_channel_concat(inner) && f.why_not_same_backend({inner, &bn}).empty()) {
      concat_parts(f, inner, bn, parts, concats);
    } else {
      parts.push_back(input);
    }
  }
}

// inference batch_norm(concat(x_1, ..., x_k) along the channels) -> concat_batch_norm(x_1, ..., x_k, ...),
// which normalises each part into its channels of the output; the concats left unread go.
bool fuse_concat_bn(Fuser& f, Node& bn) {
  if (bn.op_name() != "batch_norm" || bn.attr_bool("training")) return false;
  Node* concat = bn.input(0)->producer();
  if (!is_channel_concat(concat)) {
    return f.skip(bn, fmt::format("its input comes from {}, not a concat along the channels",
                                  concat ? concat->op_name() : "a leaf"));
  }
  if (std::string why = f.why_not_same_backend({concat, &bn}); !why.empty()) return f.skip(bn, why);
  std::vector<Value*> inputs;
  std::vector<Node*> concats;
  concat_parts(f, concat, bn, inputs, concats);
  inputs.insert(inputs.end(), bn.inputs().begin() + 1, bn.inputs().end());
  Graph::OriginScope origin(f.graph(), bn.origin());
  Node* fused = f.add(bn, "concat_batch_norm", inputs,
                      {{"eps", bn.attrs().at("eps")}, {"relu", bn.attrs().at("relu")}}, &bn, &bn);
  if (fused == nullptr) return false;
  f.take_over(bn.output(), fused->output());
  f.erase({&bn});
  for (Node* node : concats) {
    if (!f.erased(node)) f.erase_if_unused(node);
  }
  return true;
}

// sigmoid_grad(avg_pool_grad(dy), y) -> avg_pool_sigmoid_grad(y, dy): the pooled gradient is never formed,
// and the result may take the sigmoid output's bytes, which the backward no longer needs after it.
bool fuse_pool_sigmoid_grad(Fuser& f, Node& grad) {
  if (grad.op_name() != "sigmoid_grad") return false;
  Node* pool = grad.input(0)->producer();
  if (pool == nullptr || pool->op_name() != "avg_pool_grad") {
    return f.skip(grad, fmt::format("its output gradient comes from {}, not avg_pool_grad",
                                    pool ? pool->op_name() : "a leaf"));
  }
  std::string why = f.why_not_sole_user(pool->output(), grad);
  if (why.empty()) why = f.why_not_same_backend({pool, &grad});
  if (!why.empty()) return f.skip(grad, why);
  Graph::OriginScope origin(f.graph(), grad.origin());  // the activation's layer, which the pool follows
  Attrs attrs;
  for (const char* name : {"kernel", "stride", "padding", "count_include_pad"})
    attrs[name] = pool->attrs().at(name);
  Node* fused = f.add(grad, "avg_pool_sigmoid_grad", {grad.input(1), pool->input(0)}, attrs, &grad, &grad);
  if (fused == nullptr) return false;
  f.take_over(grad.output(), fused->output());
  f.erase({&grad, pool});
  return true;
}

// A training batch normalisation with a fused relu (conv_bn or batch_norm) whose output y the backward
// reads: those reads get y normalised again, just before the first of them, from the values the backward
// keeps anyway (the batch norm's input and statistics), so y need not live from the forward to the backward.
// (With relu the recomputation is one cheap pass. A sigmoid after the batch norm, as in BN-LeNet, would
// take three on its small padded layouts: measured 15% slower for 11% less memory, so it is not done.)
bool recompute_bn_relu(Fuser& f, Node& node) {
  const bool conv_bn = node.op_name() == "conv_bn";
  if (!(conv_bn || (node.op_name() == "batch_norm" && node.attr_bool("training"))) || !node.attr_bool("relu"))
    return false;
  Graph& graph = f.graph();
  std::vector<Node*> late;
  for (Node* user : node.output()->users()) {
    if (user->backward()) late.push_back(user);
  }
  if (late.empty() || node.backward()) return false;
  Node* first = *std::min_element(late.begin(), late.end(), [&](const Node* a, const Node* b) {
    return graph.index_of(a) < graph.index_of(b);
  });
  const int in = conv_bn ? 3 : 1, out = conv_bn ? 2 : 1;  // where gamma and the batch mean are
  Graph::OriginScope origin(graph, node.origin());
  Graph::BackwardScope backward(graph);
  Value* x = conv_bn ? node.output(1) : node.input(0);
  Node* again = graph.add_node(
      "batch_norm", {x, node.input(in), node.input(in + 1), node.output(out), node.output(out + 1)},
      {{"eps", node.attrs().at("eps")}, {"training", false}, {"relu", true}}, {}, first);
  for (Node* user : late) graph.replace_input(user, node.output(), again->output());
  f.count();
  return true;
}

// A pointwise conv2d, ungrouped, with no residual: a product over channels that the others reading its x can
// share.
bool is_pointwise(const Node& conv) {
  return is_pointwise_conv(conv) && conv.inputs().size() <= 3 && conv.attr_int("groups") == 1;
}

// Whether `value` is a leaf or made before `node`.
bool defined_before(const Graph& graph, const Value* value, const Node& node) {
  return value->producer() == nullptr || graph.index_of(value->producer()) < graph.index_of(&node);
}

// inference at batch 1: the 1×1 convs reading one x (an inception's branches) -> one conv2d of their
// weights (and biases) concatenated, and a slice of its output for each: x is read once, by one larger
// product, in one call. Every conv but the last has whole blocks of 16 output channels (the CPU plugin's),
// so that each slice is a view of the blocks it starts at; of those that do not, one joins, last. With more
// images a slice is strided, a copy: GoogLeNet's at batch 128 measured no faster merged.
bool merge_pointwise(Fuser& f, Node& conv) {
  if (!is_pointwise(conv) || conv.backward() || conv.input(0)->type().shape[0] != 1) return false;
  Graph& graph = f.graph();
  std::vector<Node*> group;
  Node* ragged = nullptr;
  for (Node* user : conv.input(0)->users()) {
    if (user->input(0) != conv.input(0) || !is_pointwise(*user) || user->backward() ||
        user->inputs().size() != conv.inputs().size() || user->attr_bool("relu") != conv.attr_bool("relu") ||
        !f.why_not_same_backend({&conv, user}).empty() ||
        std::find(group.begin(), group.end(), user) != group.end())
      continue;
    if (user->output()->type().shape[1] % 16 == 0) {
      group.push_back(user);
    } else if (ragged == nullptr) {
      ragged = user;
    }
  }
  if (ragged) group.push_back(ragged);
  if (group.size() < 2 || std::find(group.begin(), group.end(), &conv) == group.end()) return false;
  const Node* first = *std::min_element(group.begin(), group.end(), [&](const Node* a, const Node* b) {
    return graph.index_of(a) < graph.index_of(b);
  });
  std::vector<Value*> weights, biases;
  std::vector<std::string> origins;
  for (const Node* member : group) {
    for (size_t i = 1; i < member->inputs().size(); ++i) {
      if (!defined_before(graph, member->input(i), *first))
        return f.skip(conv, member->label() + "'s weights are made after " + first->label());
      (i == 1 ? weights : biases).push_back(member->input(i));
    }
    const std::string& layer = member->origin();
    if (!layer.empty() && std::find(origins.begin(), origins.end(), layer) == origins.end())
      origins.push_back(layer);
  }
  Graph::OriginScope origin(graph, fmt::format("{}", fmt::join(origins, "+")));
  const Attrs axis0 = {{"axis", int64_t{0}}};
  std::vector<Value*> inputs = {conv.input(0), graph.add_node("concat", weights, axis0, {}, first)->output()};
  if (!biases.empty()) inputs.push_back(graph.add_node("concat", biases, axis0, {}, first)->output());
  Node* merged = graph.add_node("conv2d", inputs, conv.attrs(), {}, first);
  int64_t begin = 0;
  for (Node* member : group) {
    const int64_t end = begin + member->output()->type().shape[1];
    Node* slice = graph.add_node("slice", {merged->output()},
                                 {{"axis", int64_t{1}}, {"begin", begin}, {"end", end}}, {}, first);
    f.take_over(member->output(), slice->output());
    begin = end;
  }
  for (Node* member : group) f.erase_if_unused(member);
  f.count();
  return true;
}

using Rule = bool (*)(Fuser& fuser, Node& candidate);

const std::map<std::string, Rule>& rules() {
  static const std::map<std::string, Rule> kRules = {{"fold_bn", fold_bn},
                                                     {"fuse_conv_bn", fuse_conv_bn},
                                                     {"fuse_concat_bn", fuse_concat_bn},
                                                     {"fuse_pool_sigmoid_grad", fuse_pool_sigmoid_grad},
                                                     {"fuse_residual", fuse_residual},
                                                     {"fuse_relu", fuse_relu},
                                                     {"merge_pointwise", merge_pointwise},
                                                     {"recompute_bn_relu", recompute_bn_relu}};
  return kRules;
}

class FusionPass : public Pass {
 public:
  FusionPass(std::string name, Rule rule, FusionOptions options)
      : name_(std::move(name)), rule_(rule), options_(std::move(options)) {}
  std::string_view name() const override { return name_; }
  bool run(Graph& graph) override {
    Fuser fuser(graph, options_, name_);
    for (Node* node : fuser.nodes()) {
      if (!fuser.erased(node)) rule_(fuser, *node);
    }
    fused_ = fuser.fused();
    return fused_ > 0;
  }
  int rewrites() const override { return fused_; }

 private:
  std::string name_;
  Rule rule_;
  FusionOptions options_;
  int fused_ = 0;
};

}  // namespace

std::vector<std::string> fusion_pipeline(bool training) {
  if (training) {
    return {"fuse_conv_bn", "fuse_residual", "fuse_relu", "recompute_bn_relu", "fuse_pool_sigmoid_grad"};
  }
  return {"fold_bn", "fuse_residual", "fuse_relu", "fuse_concat_bn", "merge_pointwise"};
}

PassManager fusion_manager(bool training, const FusionOptions& fusion, PassManagerOptions options) {
  PassManager manager(std::move(options));
  for (const std::string& name : fusion_pipeline(training)) manager.add(make_fusion_pass(name, fusion));
  return manager;
}

std::vector<std::string> fusion_pass_names() {
  std::vector<std::string> names;
  for (const auto& [name, rule] : rules()) names.push_back(name);
  return names;
}

std::unique_ptr<Pass> make_fusion_pass(const std::string& name, const FusionOptions& options) {
  auto it = rules().find(name);
  if (it == rules().end())
    fail("no fusion pass '{}'; the fusion passes are {}", name, fmt::join(fusion_pass_names(), ", "));
  return std::make_unique<FusionPass>(name, it->second, options);
}

void register_fusion_passes() {
  for (const auto& [name, rule] : rules()) {
    register_pass(name, [name = name](const PassOptions& options) {
      check_options(name, options, {"explain"});
      FusionOptions fusion;
      if (float_option(name, options, "explain", 0) != 0) fusion.explain = &std::cerr;
      return make_fusion_pass(name, fusion);
    });
  }
}

}  // namespace stratum
