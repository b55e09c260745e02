// Elementwise ops as the plugin's own kernels (one pass each, nothing for cuDNN to add): relu, sigmoid,
// add (with its relu), dropout with the mask every backend draws, and their backward ops.
#include "plugins/cudnn/ops.h"

namespace stratum::cudnn {

namespace {

using kernels::Binary;
using kernels::Unary;

void unary_launch(Compiler& c, Unary op, Ref x, Ref y, int64_t n) {
  c.add([=](const RunContext& r) { kernels::unary(op, r.at(x), r.at(y), n, r.stream()); }, {x, y});
}

void binary_op(const Node& node, Compiler& c, Binary op, const Value* output) {
  const Ref a = c.input(node.input(0)), b = c.input(node.input(1)), y = c.output(output);
  const int64_t n = node.output()->type().num_elements();
  c.add([=](const RunContext& r) { kernels::binary(op, r.at(a), r.at(b), r.at(y), n, r.stream()); },
        {a, b, y});
}

void relu(const Node& node, Compiler& c) {
  unary_launch(c, Unary::kRelu, c.input(node.input(0)), c.output(node.output()),
               node.output()->type().num_elements());
}

void sigmoid(const Node& node, Compiler& c) {
  unary_launch(c, Unary::kSigmoid, c.input(node.input(0)), c.output(node.output()),
               node.output()->type().num_elements());
}

void relu_grad(const Node& node, Compiler& c) { binary_op(node, c, Binary::kReluGrad, node.output()); }
void sigmoid_grad(const Node& node, Compiler& c) { binary_op(node, c, Binary::kSigmoidGrad, node.output()); }

// a + b, then relu
void add(const Node& node, Compiler& c) {
  binary_op(node, c, flag(node, "relu") ? Binary::kAddRelu : Binary::kAdd, node.output());
}

// (x, key){p, seed} -> x masked and scaled; dropout_grad applies the same mask to dy.
void dropout_mask(const Node& node, Compiler& c) {
  const Ref x = c.input(node.input(0)), key = c.input(node.input(1)), y = c.output(node.output());
  const int64_t n = node.output()->type().num_elements(), seed = node.attr_int("seed");
  const double p = node.attr_float("p");
  c.add(
      [=](const RunContext& r) {
        kernels::dropout(r.at(x), r.at<int32_t>(key), seed, p, r.at(y), n, r.stream());
      },
      {x, key, y});
}

void dropout(const Node& node, Compiler& c) {
  if (node.attr_bool("training")) return dropout_mask(node, c);
  c.alias(node.output(), c.input(node.input(0)));
}

}  // namespace

void add_eltwise_ops(OpTable& table) {
  table["relu"] = relu;
  table["relu_grad"] = relu_grad;
  table["sigmoid"] = sigmoid;
  table["sigmoid_grad"] = sigmoid_grad;
  table["add"] = add;
  table["dropout"] = dropout;
  table["dropout_grad"] = dropout_mask;
}

}  // namespace stratum::cudnn
