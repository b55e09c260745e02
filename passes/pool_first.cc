#include "passes/pool_first.h"

#include <memory>
#include <string>
#include <vector>

namespace stratum {

bool PoolFirstPass::run(Graph& graph) {
  rewrites_ = 0;
  std::vector<Node*> pools;
  for (const auto& node : graph.nodes()) {
    if (node->op_name() == "max_pool") pools.push_back(node.get());
  }
  for (Node* pool : pools) {
    Node* relu = pool->input(0)->producer();
    if (relu == nullptr || relu->op_name() != "relu" || relu->output()->users().size() != 1 ||
        graph.is_kept(relu->output()))
      continue;
    Node* pooled = graph.add_node("max_pool", {relu->input(0)}, pool->attrs(), {}, pool);
    Node* rectified = graph.add_node("relu", {pooled->output()}, {}, {}, pool);
    graph.set_origin(pooled, pool->origin());
    graph.set_origin(rectified, relu->origin());
    graph.replace_all_uses(pool->output(), rectified->output());
    const std::string name = pool->output()->name();
    graph.erase_node(pool);
    graph.erase_node(relu);
    graph.rename(rectified->output(), name);
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
