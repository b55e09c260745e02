#include "passes/data_parallel.h"

#include <gtest/gtest.h>

#include "backends/random_feeds.h"
#include "backends/reference/interpreter.h"
#include "passes/autodiff.h"
#include "passes/test_graphs.h"

namespace stratum {
namespace {

std::vector<const Node*> allreduces(const Graph& graph) {
  std::vector<const Node*> nodes;
  for (const auto& node : graph.nodes()) {
    if (node->op_name() == "allreduce") nodes.push_back(node.get());
  }
  return nodes;
}

// Buckets of at least the given bytes, in the order the backward computes the gradients, each right after its
// last gradient; every update reads an averaged gradient; and in a single process (a world of one) the step
// computes what it does without them, bit for bit.
TEST(DataParallel, AveragesEveryGradientInBucketsRightAfterTheirLastGradient) {
  auto graph = conv_chain_graph(), alone = conv_chain_graph();
  build_training_step(*graph, {}, "", /*data_parallel=*/true);
  build_training_step(*alone);
  const std::vector<const Node*> nodes = allreduces(*graph);
  ASSERT_EQ(nodes.size(), 1u);  // every gradient of this small graph in one bucket of 25 MB
  const Node& bucket = *nodes[0];
  EXPECT_EQ(bucket.attr_string("reduce"), "mean");
  EXPECT_EQ(bucket.inputs().size(), graph->leaves_of(ValueKind::kParam).size());
  int last = -1;
  for (const Value* grad : bucket.inputs()) last = std::max(last, graph->index_of(grad->producer()));
  EXPECT_EQ(graph->index_of(&bucket), last + 1);
  for (const Update& update : graph->updates()) {
    if (update.target->kind() != ValueKind::kParam) continue;
    const Node* step = update.value->producer();
    EXPECT_EQ(step->input(1)->producer(), &bucket) << update.target->name();
  }
  Store state = init_store(*graph, 3), state_alone = state;
  Interpreter(*graph).run(random_feeds(*graph, 7), state);
  Interpreter(*alone).run(random_feeds(*alone, 7), state_alone);
  for (const auto& [name, tensor] : state_alone) {
    for (int64_t i = 0; i < tensor.size(); ++i) ASSERT_EQ(state.at(name).f32()[i], tensor.f32()[i]) << name;
  }
}

TEST(DataParallel, SmallBucketsSplitTheGradientsInTheOrderTheyAreComputed) {
  auto graph = conv_chain_graph();
  Graph::BackwardScope scope(*graph);
  const std::vector<Value*> params = graph->leaves_of(ValueKind::kParam);
  Value* loss = graph->outputs()[0];
  Value* seed = graph->add_node("fill", {}, {{"value", 1.0}, {"shape", Ints{}}})->output(0);
  const std::vector<Value*> grads = build_gradients(*graph, loss, seed, params);
  const std::vector<Value*> reduced = allreduce_gradients(*graph, grads, /*bucket_bytes=*/1);
  EXPECT_EQ(allreduces(*graph).size(), grads.size());  // a bucket each
  for (size_t i = 0; i < grads.size(); ++i) {
    const Node* node = reduced[i]->producer();
    EXPECT_EQ(node->inputs(), std::vector<Value*>{grads[i]});
    EXPECT_EQ(graph->index_of(node), graph->index_of(grads[i]->producer()) + 1);
  }
}

// --sync-bn: the training batch norm becomes a synchronised one with the same inputs, output names and
// running-statistics updates, which autodiff then differentiates into a synchronised batch_norm_grad.
TEST(DataParallel, SynchronisedBatchNormsKeepTheirNamesAndUpdates) {
  auto graph = batch_norm_graph();
  synchronise_batch_norms(*graph);
  const Node* bn = graph->find("bn")->producer();
  EXPECT_TRUE(bn->attr_bool("sync"));
  EXPECT_EQ(bn->input(0)->name(), "conv");
  EXPECT_EQ(bn->output(3)->name(), "bn.new_mean");
  for (const Update& update : graph->updates()) EXPECT_EQ(update.value->producer(), bn);
  Value* out = graph->find("out");
  Value* ones = graph->add_node("fill", {}, {{"value", 1.0}, {"shape", Ints(out->type().shape)}})->output(0);
  build_gradients(*graph, out, ones, graph->leaves_of(ValueKind::kParam));
  int synced_grads = 0;
  for (const auto& node : graph->nodes())
    synced_grads += node->op_name() == "batch_norm_grad" && node->attr_bool("sync");
  EXPECT_EQ(synced_grads, 1);
}

}  // namespace
}  // namespace stratum
