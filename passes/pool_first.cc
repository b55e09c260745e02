#include "passes/pool_first.h"

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

namespace stratum {

namespace {

bool all_zero(const Ints& ints) {
  return std::all_of(ints.begin(), ints.end(), [](int64_t i) { return i == 0; });
}

// Whether `pool` may go before `op`, the producer of its input: the pool's kind and op's, and op's output
// read by the pool alone. A conv with a fused relu or residual (a graph already fused) is not linear in x.
bool commutes(const Graph& graph, const Node& pool, const Node* op) {
  if (op == nullptr || op->output()->users().size() != 1 || graph.is_kept(op->output())) return false;
  if (pool.op_name() == "max_pool") return op->op_name() == "relu";
  return is_pointwise_conv(*op) && op->inputs().size() <= 3 && !op->attr_bool("relu") &&
         all_zero(pool.attr_ints("padding"));
}

}  // namespace

bool PoolFirstPass::run(Graph& graph) {
  rewrites_ = 0;
  std::vector<Node*> pools;
  for (const auto& node : graph.nodes()) {
    if ((max_pools_ && node->op_name() == "max_pool") || node->op_name() == "avg_pool")
      pools.push_back(node.get());
  }
  for (Node* pool : pools) {
    Node* op = pool->input(0)->producer();
    if (!commutes(graph, *pool, op)) continue;
    std::vector<Value*> inputs(op->inputs().begin(), op->inputs().end());
    Node* pooled = graph.add_node(pool->op_name(), {inputs[0]}, pool->attrs(), {}, pool);
    inputs[0] = pooled->output();
    Node* moved = graph.add_node(op->op_name(), inputs, op->attrs(), {}, pool);
    graph.set_origin(pooled, pool->origin());
    graph.set_origin(moved, op->origin());
    graph.replace_all_uses(pool->output(), moved->output());
    const std::string name = pool->output()->name();
    graph.erase_node(pool);
    graph.erase_node(op);
    graph.rename(moved->output(), name);
    ++rewrites_;
  }
  return rewrites_ > 0;
}

PassFactory pool_first_pass_factory() {
  return [](const PassOptions& options) {
    check_options("pool_first", options, {});
    return std::make_unique<PoolFirstPass>();
  };
}

}  // namespace stratum
