// softmax_cross_entropy and its gradient, and fill: loops over plain memory, as oneDNN has no
// primitive for them. They compute in double where the reference does, so that results agree to rounding.
#include <algorithm>

#include "backends/softmax_row.h"
#include "ir/error.h"
#include "plugins/onednn/ops.h"

namespace stratum::onednn {

namespace {

using dnnl::memory;

// What both loss ops read: logits [N,K] and labels i32[N], checked to lie in [0,K) at each run.
struct Batch {
  Batch(Compiler& c, const Value* logits_value, const Value* labels_value)
      : logits(c.plain_input(logits_value)),
        labels(c.plain_input(labels_value)),
        rows(logits_value->type().shape[0]),
        classes(logits_value->type().shape[1]) {}

  // The labels, after checking them.
  const int32_t* checked_labels() const {
    const int32_t* l = data<int32_t>(labels);
    for (int64_t n = 0; n < rows; ++n) {
      if (l[n] < 0 || l[n] >= classes) fail("row {} has label {}, outside [0,{})", n, l[n], classes);
    }
    return l;
  }
  SoftmaxRow row(int64_t n) const { return {data<float>(logits) + n * classes, classes}; }

  memory logits, labels;
  int64_t rows, classes;
};

// (logits, labels) -> mean of -log softmax[label], count of rows whose argmax is the label.
void softmax_cross_entropy(const Node& node, Compiler& c) {
  const Batch batch(c, node.input(0), node.input(1));
  const memory loss = c.plain_output(node.output(0)), correct = c.plain_output(node.output(1));
  c.add_loop(
      [=] {
        const int32_t* labels = batch.checked_labels();
        double total = 0;
        int32_t right = 0;
        for (int64_t n = 0; n < batch.rows; ++n) {
          const SoftmaxRow r = batch.row(n);
          total += r.log_sum_exp - r.logits[labels[n]];
          right += r.argmax == labels[n];
        }
        *data<float>(loss) = static_cast<float>(total / batch.rows);
        *data<int32_t>(correct) = right;
      },
      {batch.logits, batch.labels, loss, correct});
}

// (dloss, logits, labels) -> dloss·(softmax(logits) - onehot(labels))/N
void softmax_cross_entropy_grad(const Node& node, Compiler& c) {
  const Batch batch(c, node.input(1), node.input(2));
  const memory dloss = c.plain_input(node.input(0)), dlogits = c.plain_output(node.output());
  c.add_loop(
      [=] {
        const int32_t* labels = batch.checked_labels();
        const double scale = double(*data<float>(dloss)) / batch.rows;
        float* out = data<float>(dlogits);
        parallel_for(
            batch.rows,
            [&](int64_t n) {
              const SoftmaxRow r = batch.row(n);
              for (int64_t k = 0; k < batch.classes; ++k) {
                out[n * batch.classes + k] =
                    static_cast<float>(scale * (r.probability(k) - (k == labels[n])));
              }
            },
            batch.classes);
      },
      {dloss, batch.logits, batch.labels, dlogits});
}

void fill(const Node& node, Compiler& c) {
  const memory out = c.plain_output(node.output());
  const float value = static_cast<float>(node.attr_float("value"));
  const int64_t n = node.output()->type().num_elements();
  c.add_loop([=] { std::fill_n(data<float>(out), n, value); }, {out});
}

}  // namespace

void add_loss_ops(OpTable& table) {
  table["softmax_cross_entropy"] = softmax_cross_entropy;
  table["softmax_cross_entropy_grad"] = softmax_cross_entropy_grad;
  table["fill"] = fill;
}

}  // namespace stratum::onednn
