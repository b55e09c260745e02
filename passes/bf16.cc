#include "passes/bf16.h"

#include <map>
#include <set>
#include <string>
#include <vector>

#include "ir/error.h"

namespace stratum {

namespace {

// The forward ops that run in bf16 (each plugin's bf16 kernels are checked against the reference's).
const std::set<std::string, std::less<>> kBf16Ops = {
    "conv2d",   "linear",   "batch_norm",      "relu",   "sigmoid", "add",     "dropout",
    "max_pool", "avg_pool", "global_avg_pool", "concat", "flatten", "reshape", "slice"};

bool is_float(const Value* v) { return v->type().dtype == DType::f32 || v->type().dtype == DType::bf16; }

class Rewrite {
 public:
  explicit Rewrite(Graph& graph) : graph_(graph) {}

  // Rebuilds the node on inputs in the dtypes it computes in; whether it had to.
  bool visit(Node* node) {
    const bool in_bf16 = kBf16Ops.count(node->op_name()) > 0;
    std::vector<Value*> inputs;
    for (Value* v : node->inputs()) {
      v = current(v);
      if (is_float(v)) v = cast(v, in_bf16 && v->type().rank() >= 2 ? DType::bf16 : DType::f32, node);
      inputs.push_back(v);
    }
    if (inputs == node->inputs()) return false;
    std::vector<std::string> names;
    for (Value* out : node->outputs()) {
      names.push_back(out->name());
      graph_.rename(out, "");
    }
    Graph::OriginScope scope(graph_, node->origin());
    Node* fresh = graph_.add_node(node->op_name(), inputs, node->attrs(), names, node);
    for (size_t i = 0; i < fresh->outputs().size(); ++i) {
      Value *old = node->output(i), *now = fresh->output(i);
      if (old->type() == now->type()) {
        graph_.replace_all_uses(old, now);
      } else {
        moved_[old] = now;
      }
    }
    replaced_.push_back(node);
    return true;
  }

  // Outputs and updates that became bf16 read f32 casts; the replaced nodes go.
  void finish() {
    for (auto [old, now] : moved_) {
      if (!graph_.is_kept(old)) continue;
      const std::string name = now->name();  // the output's name goes to its f32 cast
      graph_.rename(now, "");
      Value* back = cast(now, old->type().dtype, nullptr);
      graph_.replace_all_uses(old, back);
      graph_.rename(back, name);
    }
    for (auto it = replaced_.rbegin(); it != replaced_.rend(); ++it) graph_.erase_node(*it);
  }

 private:
  Value* current(Value* v) const {
    auto it = moved_.find(v);
    return it == moved_.end() ? v : it->second;
  }

  // `v` in `dtype`, cast (once) before `user` (at the end when null).
  Value* cast(Value* v, DType dtype, const Node* user) {
    if (v->type().dtype == dtype) return v;
    Value*& done = casts_[{v, dtype}];
    if (done == nullptr) {
      Graph::OriginScope scope(graph_, user != nullptr ? user->origin() : "");
      done = graph_.add_node("cast", {v}, {{"dtype", std::string(dtype_name(dtype))}}, {}, user)->output();
    }
    return done;
  }

  Graph& graph_;
  std::map<Value*, Value*> moved_;  // outputs whose node now computes them in another dtype
  std::map<std::pair<Value*, DType>, Value*> casts_;
  std::vector<Node*> replaced_;
};

}  // namespace

bool Bf16Pass::run(Graph& graph) {
  std::vector<Node*> nodes;
  for (const auto& node : graph.nodes()) {
    if (node->backward())
      fail("bf16: {} is part of a backward; run bf16 on the forward graph, before autodiff", node->label());
    nodes.push_back(node.get());
  }
  Rewrite rewrite(graph);
  bool changed = false;
  for (Node* node : nodes) changed |= rewrite.visit(node);
  rewrite.finish();
  return changed;
}

PassFactory bf16_pass_factory() {
  return [](const PassOptions& options) {
    check_options("bf16", options, {});
    return std::make_unique<Bf16Pass>();
  };
}

}  // namespace stratum
