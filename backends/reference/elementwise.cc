// Elementwise ops: relu, sigmoid, add, dropout, and their backward ops.
#include <cmath>

#include "backends/dropout_mask.h"
#include "backends/reference/common.h"

namespace stratum::reference {

namespace {

// out[i] = f(a[i]), or f(a[i], b[i]) with a second input; computed in double.
template <typename F>
void map_unary(const Tensor& a, Tensor& out, F f) {
  for (int64_t i = 0; i < out.size(); ++i) out.f32()[i] = static_cast<float>(f(double(a.f32()[i])));
}
template <typename F>
void map_binary(const Tensor& a, const Tensor& b, Tensor& out, F f) {
  for (int64_t i = 0; i < out.size(); ++i) {
    out.f32()[i] = static_cast<float>(f(double(a.f32()[i]), double(b.f32()[i])));
  }
}

void relu(const Node&, const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) {
  map_unary(*in[0], *out[0], [](double x) { return x > 0 ? x : 0.0; });
}

// (dy, y) -> dy·[y>0]
void relu_grad(const Node&, const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) {
  map_binary(*in[0], *in[1], *out[0], [](double dy, double y) { return y > 0 ? dy : 0.0; });
}

void sigmoid(const Node&, const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) {
  map_unary(*in[0], *out[0], [](double x) { return 1 / (1 + std::exp(-x)); });
}

// (dy, y) -> dy·y·(1-y)
void sigmoid_grad(const Node&, const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) {
  map_binary(*in[0], *in[1], *out[0], [](double dy, double y) { return dy * y * (1 - y); });
}

void add(const Node& node, const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) {
  map_binary(*in[0], *in[1], *out[0], [](double a, double b) { return a + b; });
  relu_if_fused(node, *out[0]);
}

// (x, key) -> x·keep/(1-p), the mask drawn by dropout_keep; dropout_grad applies the same mask to dy.
void apply_dropout_mask(const Node& node, const std::vector<const Tensor*>& in,
                        const std::vector<Tensor*>& out) {
  const double p = node.attr_float("p");
  const int64_t seed = node.attr_int("seed");
  const int32_t key = in[1]->i32()[0];
  for (int64_t i = 0; i < out[0]->size(); ++i) {
    out[0]->f32()[i] = dropout_keep(seed, key, i, p) ? static_cast<float>(in[0]->f32()[i] / (1 - p)) : 0.0f;
  }
}

// Kernels see bf16 as f32 (Interpreter::run_node rounds a bf16 output), so a cast is a copy.
void cast(const Node&, const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) {
  map_unary(*in[0], *out[0], [](double x) { return x; });
}

void dropout(const Node& node, const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) {
  if (node.attr_bool("training")) return apply_dropout_mask(node, in, out);
  map_unary(*in[0], *out[0], [](double x) { return x; });
}

}  // namespace

void add_elementwise_kernels(KernelTable& table) {
  table["relu"] = relu;
  table["relu_grad"] = relu_grad;
  table["sigmoid"] = sigmoid;
  table["sigmoid_grad"] = sigmoid_grad;
  table["add"] = add;
  table["dropout"] = dropout;
  table["dropout_grad"] = apply_dropout_mask;
  table["cast"] = cast;
}

}  // namespace stratum::reference
