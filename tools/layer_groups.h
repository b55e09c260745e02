// Which layer of the net each node of a graph belongs to, for per-layer tables: forward or training step,
// fused or not.
//
// Forward nodes:
// - a node that reads params or state belongs to their layers: a param's layer is its name less the last
//   part (%conv1.weight: conv1), and a fused node that reads the params of several layers belongs to all of
//   them joined by '+' ("b1.conv+b1.bn"); values computed from params and state alone (batch norm folded
//   into a conv's weights) count as the params they come from;
// - an elementwise node that reads one computed value (relu, sigmoid, dropout) belongs to that value's
//   layer, so that a layer's activation counts with it whether or not fusion put it into the layer's node;
// - any other node (pooling, concat, add, flatten, the loss) is a layer of its own, named by its op and,
//   where the op occurs more than once, its place among them: "avg_pool1", "concat3",
//   "softmax_cross_entropy".
// Backward nodes (gradients and the SGD update: every node that computes from a gradient, and the seed of
// the loss's gradient) belong to the layer of the forward node they differentiate:
// - one that reads a param, or computes a param's gradient (its output is read by an sgd_update), to the
//   layer of the forward node that reads that param;
// - an "<op>_grad..." node to the <op> node whose inputs or outputs it reads (of several, the last that is
//   not after the forward node of the backward node before it: autodiff goes through the forward nodes
//   backwards); one that reads no forward value (avg_pool_grad) likewise among all <op> nodes; where fusion
//   left no <op> node (relu_grad of a ReLU fused into an add), to the forward node whose output it reads;
// - a node with one input and one output that reverses a forward node's types (reading its output's type,
//   producing one of its inputs' types: the reshape of flatten's gradient, the slices of concat's) to that
//   node, choosing among several as for "<op>_grad";
// - any other (sums of gradients where a value fans out) to the layer of the backward node before it, as
//   autodiff writes each forward node's backward nodes together.
#pragma once

#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "ir/graph.h"

namespace stratum {

struct LayerGroups {
  std::vector<std::string> layers;                   // in the order of their first forward node
  std::unordered_map<const Node*, size_t> layer_of;  // every node: an index into `layers`
  std::unordered_set<const Node*> backward;          // the backward nodes
};

LayerGroups group_layers(const Graph& graph);

}  // namespace stratum
