// softmax_cross_entropy and its backward op, and fill, as the plugin's own kernels.
#include "plugins/cudnn/ops.h"

namespace stratum::cudnn {

namespace {

// (logits [N,K], labels i32[N]) -> loss, correct
void softmax_cross_entropy(const Node& node, Compiler& c) {
  const Shape& shape = node.input(0)->type().shape;
  const Ref logits = c.input(node.input(0)), labels = c.input(node.input(1));
  const Ref loss = c.output(node.output(0)), correct = c.output(node.output(1));
  c.add(
      [=](const RunContext& r) {
        kernels::softmax_cross_entropy(r.at(logits), r.at<int32_t>(labels), r.at(loss),
                                       r.at<int32_t>(correct), shape[0], shape[1], r.stream());
      },
      {logits, labels, loss, correct});
}

// (dloss, logits, labels) -> dlogits
void softmax_cross_entropy_grad(const Node& node, Compiler& c) {
  const Shape& shape = node.input(1)->type().shape;
  const Ref dloss = c.input(node.input(0)), logits = c.input(node.input(1)), labels = c.input(node.input(2));
  const Ref dlogits = c.output(node.output());
  c.add(
      [=](const RunContext& r) {
        kernels::softmax_cross_entropy_grad(r.at(dloss), r.at(logits), r.at<int32_t>(labels), r.at(dlogits),
                                            shape[0], shape[1], r.stream());
      },
      {dloss, logits, labels, dlogits});
}

void fill(const Node& node, Compiler& c) {
  const Ref out = c.output(node.output());
  const float value = static_cast<float>(node.attr_float("value"));
  const int64_t n = node.output()->type().num_elements();
  c.add([=](const RunContext& r) { kernels::fill(r.at(out), value, n, r.stream()); }, {out});
}

}  // namespace

void add_loss_ops(OpTable& table) {
  table["softmax_cross_entropy"] = softmax_cross_entropy;
  table["softmax_cross_entropy_grad"] = softmax_cross_entropy_grad;
  table["fill"] = fill;
}

}  // namespace stratum::cudnn
