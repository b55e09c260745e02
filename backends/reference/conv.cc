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

// (x, w[, bias]) -> y
void conv2d(const Node& node, const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) {
  const float *x = in[0]->f32(), *w = in[1]->f32();
  std::vector<double> y(out[0]->size(), 0.0);
  for_each_tap(node, in[0]->shape(), in[1]->shape(), out[0]->shape(),
               [&](int64_t xi, int64_t wi, int64_t yi) { y[yi] += double(x[xi]) * w[wi]; });
  if (in.size() == 3) {
    const float* bias = in[2]->f32();
    ChannelView view(out[0]->shape());
    for (int64_t c = 0; c < view.channels; ++c) {
      view.for_each_in_channel(c, [&](int64_t i) { y[i] += bias[c]; });
    }
  }
  store(y, *out[0]);
}

// (dy, w) -> dx
void conv2d_grad_input(const Node& node, const std::vector<const Tensor*>& in,
                       const std::vector<Tensor*>& out) {
  const float *dy = in[0]->f32(), *w = in[1]->f32();
  std::vector<double> dx(out[0]->size(), 0.0);
  for_each_tap(node, out[0]->shape(), in[1]->shape(), in[0]->shape(),
               [&](int64_t xi, int64_t wi, int64_t yi) { dx[xi] += double(dy[yi]) * w[wi]; });
  store(dx, *out[0]);
}

// (dy, x) -> dw
void conv2d_grad_weight(const Node& node, const std::vector<const Tensor*>& in,
                        const std::vector<Tensor*>& out) {
  const float *dy = in[0]->f32(), *x = in[1]->f32();
  std::vector<double> dw(out[0]->size(), 0.0);
  for_each_tap(node, in[1]->shape(), out[0]->shape(), in[0]->shape(),
               [&](int64_t xi, int64_t wi, int64_t yi) { dw[wi] += double(dy[yi]) * x[xi]; });
  store(dw, *out[0]);
}

// dy -> dy summed over every axis but 1
void bias_grad(const Node&, const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) {
  const float* dy = in[0]->f32();
  ChannelView view(in[0]->shape());
  for (int64_t c = 0; c < view.channels; ++c) {
    double sum = 0;
    view.for_each_in_channel(c, [&](int64_t i) { sum += dy[i]; });
    out[0]->f32()[c] = static_cast<float>(sum);
  }
}

}  // namespace

void add_conv_kernels(KernelTable& table) {
  table["conv2d"] = conv2d;
  table["conv2d_grad_input"] = conv2d_grad_input;
  table["conv2d_grad_weight"] = conv2d_grad_weight;
  table["bias_grad"] = bias_grad;
}

}  // namespace stratum::reference
