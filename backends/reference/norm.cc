// batch_norm (training with batch statistics, or inference with running statistics) and batch_norm_grad.
// Statistics are per channel, over N (rank 2) or N, H and W (rank 4).
#include <cmath>

#include "backends/reference/common.h"
#include "backends/world.h"

namespace stratum::reference {

namespace {

struct Moments {
  double mean, var;  // var is biased (divides by the count)
};

// The values a channel's statistics are over: this rank's part of the batch, or with `sync` every rank's
// (equal parts).
double batch_count(const ChannelView& view, bool sync) {
  return double(view.per_channel()) * (sync ? world().size() : 1);
}

// Per channel, the mean and variance of x, over every rank's part of the batch with `sync`: sums, then
// squares centred on the whole batch's mean (as exact as one process's), each summed over the ranks.
std::vector<Moments> batch_moments(const ChannelView& view, const float* x, bool sync) {
  const double count = batch_count(view, sync);
  std::vector<double> sums(view.channels), squares(view.channels);
  for (int64_t c = 0; c < view.channels; ++c)
    view.for_each_in_channel(c, [&](int64_t i) { sums[c] += x[i]; });
  if (sync) sum_over_ranks(sums, "batch_norm's sums");
  for (int64_t c = 0; c < view.channels; ++c) {
    const double mean = sums[c] / count;
    view.for_each_in_channel(c, [&](int64_t i) { squares[c] += (x[i] - mean) * (x[i] - mean); });
  }
  if (sync) sum_over_ranks(squares, "batch_norm's squares");
  std::vector<Moments> moments;
  for (int64_t c = 0; c < view.channels; ++c) moments.push_back({sums[c] / count, squares[c] / count});
  return moments;
}

// y = gamma·(x - mean)/sqrt(var + eps) + beta over channel c.
void normalize(const ChannelView& view, int64_t c, Moments m, double eps, const float* x, double gamma,
               double beta, float* y) {
  const double inv_std = 1 / std::sqrt(m.var + eps);
  view.for_each_in_channel(
      c, [&](int64_t i) { y[i] = static_cast<float>(gamma * (x[i] - m.mean) * inv_std + beta); });
}

// (x, gamma, beta, running mean, running var) -> training: y, saved mean, saved var, new running mean, new
// running var; inference: y. Then relu.
void batch_norm(const Node& node, const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) {
  if (node.attr_bool("training")) {
    batch_norm_training(node, in, out, node.attr_bool("sync"));
  } else {
    batch_norm_inference(node.attr_float("eps"), in, *out[0]);
  }
  relu_if_fused(node, *out[0]);
}

// (dy, x, gamma, saved mean, saved var[, beta]) -> dx, dgamma, dbeta
void batch_norm_grad(const Node& node, const std::vector<const Tensor*>& in,
                     const std::vector<Tensor*>& out) {
  batch_norm_backward(node.attr_float("eps"), in, in.size() == 6 ? in[5] : nullptr, out,
                      node.attr_bool("sync"));
}

}  // namespace

void batch_norm_inference(double eps, const std::vector<const Tensor*>& in, Tensor& y) {
  const ChannelView view(in[0]->shape());
  for (int64_t c = 0; c < view.channels; ++c) {
    normalize(view, c, {in[3]->f32()[c], in[4]->f32()[c]}, eps, in[0]->f32(), in[1]->f32()[c],
              in[2]->f32()[c], y.f32());
  }
}

void batch_norm_training(const Node& node, const std::vector<const Tensor*>& in,
                         const std::vector<Tensor*>& out, bool sync) {
  const ChannelView view(in[0]->shape());
  const float *x = in[0]->f32(), *gamma = in[1]->f32(), *beta = in[2]->f32();
  const float *running_mean = in[3]->f32(), *running_var = in[4]->f32();
  const double eps = node.attr_float("eps"), momentum = node.attr_float("momentum");
  const double n = batch_count(view, sync);
  const std::vector<Moments> moments = batch_moments(view, x, sync);
  for (int64_t c = 0; c < view.channels; ++c) {
    const Moments& m = moments[c];
    normalize(view, c, m, eps, x, gamma[c], beta[c], out[0]->f32());
    out[1]->f32()[c] = static_cast<float>(m.mean);
    out[2]->f32()[c] = static_cast<float>(m.var);
    out[3]->f32()[c] = static_cast<float>((1 - momentum) * running_mean[c] + momentum * m.mean);
    out[4]->f32()[c] = static_cast<float>((1 - momentum) * running_var[c] + momentum * m.var * n / (n - 1));
  }
}

// With x̂ = (x - mean)/std: dbeta = Σdy, dgamma = Σdy·x̂, dx = gamma/(n·std)·(n·dy - dbeta - x̂·dgamma),
// where dy is zero wherever the relu (when there is a beta) cut gamma·x̂ + beta. With `sync`, dx takes n
// and the sums over every rank's part of the batch; dgamma and dbeta stay this rank's, to be averaged with
// the other gradients.
void batch_norm_backward(double eps, const std::vector<const Tensor*>& in, const Tensor* beta,
                         const std::vector<Tensor*>& out, bool sync) {
  const ChannelView view(in[1]->shape());
  const float *x = in[1]->f32(), *gamma = in[2]->f32(), *dys = in[0]->f32();
  const float *mean = in[3]->f32(), *var = in[4]->f32();
  const double n = batch_count(view, sync);
  auto inv_std = [&](int64_t c) { return 1 / std::sqrt(var[c] + eps); };
  auto x_hat = [&](int64_t c, int64_t i) { return (double(x[i]) - mean[c]) * inv_std(c); };
  auto dy = [&](int64_t c, int64_t i) {
    return beta && gamma[c] * x_hat(c, i) + beta->f32()[c] <= 0 ? 0.0 : double(dys[i]);
  };
  std::vector<double> sums(2 * view.channels);  // dbeta, dgamma of each channel
  for (int64_t c = 0; c < view.channels; ++c) {
    view.for_each_in_channel(c, [&](int64_t i) {
      sums[2 * c] += dy(c, i);
      sums[2 * c + 1] += dy(c, i) * x_hat(c, i);
    });
    out[1]->f32()[c] = static_cast<float>(sums[2 * c + 1]);
    out[2]->f32()[c] = static_cast<float>(sums[2 * c]);
  }
  if (sync) sum_over_ranks(sums, "batch_norm_grad's sums");
  float* dx = out[0]->f32();
  for (int64_t c = 0; c < view.channels; ++c) {
    const double dbeta = sums[2 * c], dgamma = sums[2 * c + 1];
    view.for_each_in_channel(c, [&](int64_t i) {
      dx[i] = static_cast<float>(gamma[c] * inv_std(c) / n * (n * dy(c, i) - dbeta - x_hat(c, i) * dgamma));
    });
  }
}

void add_norm_kernels(KernelTable& table) {
  table["batch_norm"] = batch_norm;
  table["batch_norm_grad"] = batch_norm_grad;
}

}  // namespace stratum::reference
