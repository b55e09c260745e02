#include "passes/dce.h"

#include <algorithm>
#include <memory>
#include <unordered_set>
#include <vector>

namespace stratum {

bool DcePass::run(Graph& graph) {
  std::unordered_set<const Value*> live(graph.outputs().begin(), graph.outputs().end());
  for (const Update& update : graph.updates()) live.insert(update.value);
  // Users follow producers, so one backward sweep sees every use of a value before its producer.
  std::vector<Node*> dead;
  for (auto it = graph.nodes().rbegin(); it != graph.nodes().rend(); ++it) {
    Node* node = it->get();
    const bool used = std::any_of(node->outputs().begin(), node->outputs().end(),
                                  [&](const Value* out) { return live.count(out) > 0; });
    if (!used) {
      dead.push_back(node);
      continue;
    }
    live.insert(node->inputs().begin(), node->inputs().end());
  }
  // `dead` is in reverse order: each node's users are erased before it.
  for (Node* node : dead) graph.erase_node(node);
  return !dead.empty();
}

PassFactory dce_pass_factory() {
  return [](const PassOptions& options) {
    check_options("dce", options, {});
    return std::make_unique<DcePass>();
  };
}

}  // namespace stratum
