#include "passes/data_parallel.h"

#include <algorithm>
#include <numeric>

#include "passes/optimizer.h"

namespace stratum {

std::vector<Value*> allreduce_gradients(Graph& graph, const std::vector<Value*>& grads,
                                        int64_t bucket_bytes) {
  auto computed_at = [&graph](const Value* v) { return v->producer() ? graph.index_of(v->producer()) : -1; };
  std::vector<size_t> order(grads.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return computed_at(grads[a]) < computed_at(grads[b]); });
  std::vector<Value*> reduced(grads.size());
  Graph::BackwardScope backward(graph);
  Graph::OriginScope scope(graph, "allreduce");
  for (size_t first = 0; first < order.size();) {
    std::vector<Value*> bucket;
    std::vector<std::string> names;
    int64_t bytes = 0;
    size_t last = first;
    for (; last < order.size() && (bucket.empty() || bytes < bucket_bytes); ++last) {
      Value* grad = grads[order[last]];
      bucket.push_back(grad);
      names.push_back(grad->name().empty() ? "" : grad->name() + ".mean");
      bytes += static_cast<int64_t>(grad->type().bytes());
    }
    Node* node = graph.add_node("allreduce", bucket, {}, names, after_producers(graph, bucket));
    for (size_t i = first; i < last; ++i) reduced[order[i]] = node->output(i - first);
    first = last;
  }
  return reduced;
}

void synchronise_batch_norms(Graph& graph) {
  std::vector<Node*> norms;
  for (const auto& node : graph.nodes()) {
    if (node->op_name() == "batch_norm" && node->attr_bool("training") && !node->attr_bool("sync"))
      norms.push_back(node.get());
  }
  for (Node* norm : norms) {
    Graph::OriginScope scope(graph, norm->origin());
    Attrs attrs = norm->attrs();
    attrs["sync"] = true;
    Node* synced = graph.add_node("batch_norm", norm->inputs(), attrs, {}, norm);
    std::vector<std::string> names;
    for (size_t i = 0; i < norm->outputs().size(); ++i) {
      names.push_back(norm->output(i)->name());
      graph.replace_all_uses(norm->output(i), synced->output(i));
    }
    graph.erase_node(norm);
    for (size_t i = 0; i < names.size(); ++i) {
      if (!names[i].empty()) graph.rename(synced->output(i), names[i]);
    }
  }
}

}  // namespace stratum
