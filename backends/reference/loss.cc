// softmax_cross_entropy and its backward op, fill.
#include "backends/reference/common.h"
#include "backends/softmax_row.h"
#include "ir/error.h"

namespace stratum::reference {

namespace {

// Row n of logits [N,K], and its label, checked to lie in [0,K).
struct Row : SoftmaxRow {
  Row(const Tensor& logits, const Tensor& labels, int64_t n)
      : SoftmaxRow(logits.f32() + n * logits.shape()[1], logits.shape()[1]),
        classes(logits.shape()[1]),
        label(labels.i32()[n]) {
    if (label < 0 || label >= classes) fail("row {} has label {}, outside [0,{})", n, label, classes);
  }
  int64_t classes;
  int32_t label;
};

// (logits [N,K], labels i32[N]) -> mean of -log softmax[label], count of rows whose argmax is the label.
void softmax_cross_entropy(const Node&, const std::vector<const Tensor*>& in,
                           const std::vector<Tensor*>& out) {
  const int64_t rows = in[0]->shape()[0];
  double loss = 0;
  int32_t correct = 0;
  for (int64_t n = 0; n < rows; ++n) {
    const Row r(*in[0], *in[1], n);
    loss += r.log_sum_exp - r.logits[r.label];
    correct += r.argmax == r.label;
  }
  out[0]->f32()[0] = static_cast<float>(loss / rows);
  out[1]->i32()[0] = correct;
}

// (dloss, logits, labels) -> dloss·(softmax - onehot)/N
void softmax_cross_entropy_grad(const Node&, const std::vector<const Tensor*>& in,
                                const std::vector<Tensor*>& out) {
  const int64_t rows = in[1]->shape()[0];
  const double scale = double(in[0]->f32()[0]) / rows;
  for (int64_t n = 0; n < rows; ++n) {
    const Row r(*in[1], *in[2], n);
    float* d = out[0]->f32() + n * r.classes;
    for (int64_t k = 0; k < r.classes; ++k)
      d[k] = static_cast<float>(scale * (r.probability(k) - (k == r.label)));
  }
}

void fill(const Node& node, const std::vector<const Tensor*>&, const std::vector<Tensor*>& out) {
  const float value = static_cast<float>(node.attr_float("value"));
  for (int64_t i = 0; i < out[0]->size(); ++i) out[0]->f32()[i] = value;
}

}  // namespace

void add_loss_kernels(KernelTable& table) {
  table["softmax_cross_entropy"] = softmax_cross_entropy;
  table["softmax_cross_entropy_grad"] = softmax_cross_entropy_grad;
  table["fill"] = fill;
}

}  // namespace stratum::reference
