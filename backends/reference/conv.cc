// conv2d (PyTorch's cross-correlation with stride, padding, dilation and groups), its input and weight
// gradients, and bias_grad. All three convolution kernels walk the same loop nest of (output, tap) pairs.
#include "backends/reference/common.h"

namespace stratum::reference {

namespace {

// Calls f(x index, w index, y index) for every product x·w that contributes to an output element of the
// convolution of x [N,C,H,W] by w [O,C/groups,kh,kw] into y [N,O,OH,OW]; taps in the padding are skipped.
template <typename F>
void for_each_tap(const Node& node, const Shape& x, const Shape& w, const Shape& y, F f) {
  const int64_t batch = x[0], in_channels = x[1], in_h = x[2], in_w = x[3];
  const int64_t out_channels = w[0], group_in = w[1], k_h = w[2], k_w = w[3];
  const int64_t out_h = y[2], out_w = y[3];
  const Ints &stride = node.attr_ints("stride"), &pad = node.attr_ints("padding");
  const Ints& dilation = node.attr_ints("dilation");
  const int64_t group_out = out_channels / node.attr_int("groups");
  for (int64_t n = 0; n < batch; ++n) {
    for (int64_t o = 0; o < out_channels; ++o) {
      const int64_t first_c = (o / group_out) * group_in;  // the first input channel of o's group
      for (int64_t oy = 0; oy < out_h; ++oy) {
        for (int64_t ox = 0; ox < out_w; ++ox) {
          const int64_t y_index = ((n * out_channels + o) * out_h + oy) * out_w + ox;
          for (int64_t c = 0; c < group_in; ++c) {
            for (int64_t ky = 0; ky < k_h; ++ky) {
              const int64_t iy = oy * stride[0] - pad[0] + ky * dilation[0];
              if (iy < 0 || iy >= in_h) continue;
              for (int64_t kx = 0; kx < k_w; ++kx) {
                const int64_t ix = ox * stride[1] - pad[1] + kx * dilation[1];
                if (ix < 0 || ix >= in_w) continue;
                const int64_t x_index = ((n * in_channels + first_c + c) * in_h + iy) * in_w + ix;
                const int64_t w_index = ((o * group_in + c) * k_h + ky) * k_w + kx;
                f(x_index, w_index, y_index);
              }
            }
          }
        }
      }
    }
  }
}

// (x, w[, bias[, residual]]) -> y, then relu
void conv2d(const Node& node, const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) {
  convolve(node, *in[0], *in[1], in.size() >= 3 ? in[2] : nullptr, *out[0]);
  if (in.size() == 4) {
    for (int64_t i = 0; i < out[0]->size(); ++i) out[0]->f32()[i] += in[3]->f32()[i];
  }
  relu_if_fused(node, *out[0]);
}

void conv2d_grad_input(const Node& node, const std::vector<const Tensor*>& in,
                       const std::vector<Tensor*>& out) {
  convolve_grad_input(node, *in[0], *in[1], *out[0]);
}

void conv2d_grad_weight(const Node& node, const std::vector<const Tensor*>& in,
                        const std::vector<Tensor*>& out) {
  convolve_grad_weight(node, *in[0], *in[1], *out[0]);
}

void bias_grad(const Node&, const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) {
  sum_per_channel(*in[0], *out[0]);
}

}  // namespace

void convolve(const Node& node, const Tensor& x, const Tensor& w, const Tensor* bias, Tensor& y) {
  std::vector<double> sums(y.size(), 0.0);
  const float *xs = x.f32(), *ws = w.f32();
  for_each_tap(node, x.shape(), w.shape(), y.shape(),
               [&](int64_t xi, int64_t wi, int64_t yi) { sums[yi] += double(xs[xi]) * ws[wi]; });
  if (bias) {
    ChannelView view(y.shape());
    for (int64_t c = 0; c < view.channels; ++c) {
      const float b = bias->f32()[c];
      view.for_each_in_channel(c, [&](int64_t i) { sums[i] += b; });
    }
  }
  store(sums, y);
}

// (dy, w) -> dx
void convolve_grad_input(const Node& node, const Tensor& dy, const Tensor& w, Tensor& dx) {
  std::vector<double> sums(dx.size(), 0.0);
  const float *dys = dy.f32(), *ws = w.f32();
  for_each_tap(node, dx.shape(), w.shape(), dy.shape(),
               [&](int64_t xi, int64_t wi, int64_t yi) { sums[xi] += double(dys[yi]) * ws[wi]; });
  store(sums, dx);
}

// (dy, x) -> dw
void convolve_grad_weight(const Node& node, const Tensor& dy, const Tensor& x, Tensor& dw) {
  std::vector<double> sums(dw.size(), 0.0);
  const float *dys = dy.f32(), *xs = x.f32();
  for_each_tap(node, x.shape(), dw.shape(), dy.shape(),
               [&](int64_t xi, int64_t wi, int64_t yi) { sums[wi] += double(dys[yi]) * xs[xi]; });
  store(sums, dw);
}

// dy -> dy summed over every axis but 1
void sum_per_channel(const Tensor& dy, Tensor& db) {
  ChannelView view(dy.shape());
  for (int64_t c = 0; c < view.channels; ++c) {
    double sum = 0;
    const float* d = dy.f32();
    view.for_each_in_channel(c, [&](int64_t i) { sum += d[i]; });
    db.f32()[c] = static_cast<float>(sum);
  }
}

void add_conv_kernels(KernelTable& table) {
  table["conv2d"] = conv2d;
  table["conv2d_grad_input"] = conv2d_grad_input;
  table["conv2d_grad_weight"] = conv2d_grad_weight;
  table["bias_grad"] = bias_grad;
}

}  // namespace stratum::reference
