// A convolution of 8 output channels or fewer at stride 1 (LeNet's first), in plain layouts, by kernels of
// our own on AVX-512. oneDNN's kernels would write its output padded to a block of 16 channels, which every
// plain consumer (LeNet's sigmoid and pooling) then reorders: LeNet's conv1 took 0.50 ms forward and 0.43
// ms to reorder its output, 0.51 ms for its weight gradient and 0.46 ms to reorder dy for it; these take
// 0.22 and 0.5 ms. A sigmoid that alone reads the output is applied on the way. Each image is first copied
// into a zero-bordered buffer, so that the kernels never test an edge; lanes are output columns, 32 a row at
// a time forward, 16 for the weight gradient.
//
// And the data gradient of a convolution of 8 input channels or fewer (LeNet's conv2, 6 channels), where
// oneDNN computes 6 channels in 16 lanes (1.0 ms of LeNet's 4.8 ms step on an AMD Zen 5, and a reorder of
// dx to plain): here lanes are 16 images, so that every tap is a whole vector, dy gathered into a
// zero-bordered copy of the block's images and dx scattered back to plain.
#include <omp.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <utility>

#include "plugins/onednn/avx512.h"
#include "plugins/onednn/ops.h"

namespace stratum::onednn {

namespace {

using dnnl::memory;

constexpr int64_t kMaxOutputs = 8;   // a forward tile: 8 channels × 2 vectors, 16 accumulators
constexpr int64_t kGradOutputs = 3;  // a weight-gradient tile: 3 channels × 5 taps, 15 accumulators
constexpr int64_t kGradTaps = 5;

// The shapes of one image's convolution and of its zero-bordered copy.
struct Geometry {
  int64_t channels, height, width, outputs, out_h, out_w, kh, kw, pad_h, pad_w;
  int64_t padded_h() const { return out_h + kh - 1; }
  // Room for the last 32 columns' reads and a tap group's overhang.
  int64_t padded_w() const { return (out_w + 31) / 32 * 32 + kw + kGradTaps; }
  int64_t padded_image() const { return channels * padded_h() * padded_w(); }
  int64_t out_plane() const { return out_h * out_w; }
  int64_t taps() const { return channels * kh * kw; }
  // dy of a block of images for the data gradient, lanes are images: [outputs][out_h][lane_columns][16],
  // where column q holds dy's column q + pad_w - (kw - 1), or zeros beyond dy's edges; so dx's column ix
  // sums w's tap kx times column ix + kw - 1 - kx, whatever the tap.
  int64_t lane_columns() const { return width + kw - 1; }
  int64_t lane_rows_size() const { return outputs * out_h * lane_columns() * 16; }
};

Geometry geometry_of(const Node& node, const Shape& x, const Shape& w, const Shape& y) {
  return {x[1],
          x[2],
          x[3],
          w[0],
          y[2],
          y[3],
          w[2],
          w[3],
          node.attr_ints("padding")[0],
          node.attr_ints("padding")[1]};
}

// Image `n` of x into its zero-bordered copy (cropped where the padding is larger than the kernel needs).
void pad_image(const Geometry& g, const float* x, float* to) {
  const int64_t ph = g.padded_h(), pw = g.padded_w();
  std::fill(to, to + g.padded_image(), 0.0f);
  const int64_t from_x = std::max<int64_t>(0, -g.pad_w), at_x = std::max<int64_t>(0, g.pad_w);
  const int64_t columns = std::min(g.width - from_x, pw - at_x);
  for (int64_t c = 0; c < g.channels; ++c) {
    for (int64_t h = std::max<int64_t>(0, -g.pad_h); h < g.height && h + g.pad_h < ph; ++h) {
      if (columns > 0) {
        std::memcpy(to + (c * ph + h + g.pad_h) * pw + at_x, x + (c * g.height + h) * g.width + from_x,
                    columns * sizeof(float));
      }
    }
  }
}

// Row `oy` of y's kT channels (a channel every `y_stride` floats) from the padded image and weights packed
// [channels][kh][kw][kT].
template <int kT>
STRATUM_AVX512 void forward_row(const Geometry& g, const float* xp, const float* w, const float* bias,
                                Activation activation, float* y, int64_t y_stride, int64_t oy) {
  const int64_t ph = g.padded_h(), pw = g.padded_w();
  for (int64_t ox = 0; ox < g.out_w; ox += 32) {
    __m512 acc[kT][2];
#pragma GCC unroll 8
    for (int t = 0; t < kT; ++t) acc[t][0] = acc[t][1] = _mm512_set1_ps(bias ? bias[t] : 0.0f);
    for (int64_t c = 0; c < g.channels; ++c) {
      for (int64_t i = 0; i < g.kh; ++i) {
        const float* row = xp + (c * ph + oy + i) * pw + ox;
        const float* taps = w + (c * g.kh + i) * g.kw * kT;
        for (int64_t j = 0; j < g.kw; ++j) {
          const __m512 a = _mm512_loadu_ps(row + j), b = _mm512_loadu_ps(row + j + 16);
#pragma GCC unroll 8
          for (int t = 0; t < kT; ++t) {
            const __m512 weight = _mm512_set1_ps(taps[j * kT + t]);
            acc[t][0] = _mm512_fmadd_ps(a, weight, acc[t][0]);
            acc[t][1] = _mm512_fmadd_ps(b, weight, acc[t][1]);
          }
        }
      }
    }
    const __mmask16 low = first_lanes(g.out_w - ox), high = first_lanes(g.out_w - ox - 16);
#pragma GCC unroll 8
    for (int t = 0; t < kT; ++t) {
      float* out = y + t * y_stride + oy * g.out_w + ox;
      for (int v = 0; v < 2; ++v) {
        _mm512_mask_storeu_ps(out + 16 * v, v == 0 ? low : high, activate(acc[t][v], activation));
      }
    }
  }
}

// Σ of a plane of n floats.
STRATUM_AVX512 float plane_sum(const float* p, int64_t n) {
  __m512 sum = _mm512_setzero_ps();
  for (int64_t i = 0; i < n; i += 16)
    sum = _mm512_add_ps(sum, _mm512_maskz_loadu_ps(first_lanes(n - i), p + i));
  return _mm512_reduce_add_ps(sum);
}

// dw [kT][taps] and db [kT] (null: none) += one image's, from its padded x and dy [kT][out_h][out_w] (a
// channel every `dy_stride` floats): for each row of kGradTaps taps, lanes of dy times x summed, then
// across the lanes. (Every index into the accumulators is a constant, so that they stay in registers.)
template <int kT>
STRATUM_AVX512 void weight_grad_image(const Geometry& g, const float* xp, const float* dy, int64_t dy_stride,
                                      float* dw, float* db) {
  const int64_t ph = g.padded_h(), pw = g.padded_w(), out_h = g.out_h, out_w = g.out_w, taps = g.taps();
  if (db != nullptr) {
    for (int t = 0; t < kT; ++t) db[t] += plane_sum(dy + t * dy_stride, g.out_plane());
  }
  for (int64_t c = 0; c < g.channels; ++c) {
    for (int64_t i = 0; i < g.kh; ++i) {
      for (int64_t j0 = 0; j0 < g.kw; j0 += kGradTaps) {
        __m512 acc[kT][kGradTaps];
#pragma GCC unroll 8
        for (int t = 0; t < kT; ++t) {
#pragma GCC unroll 8
          for (int j = 0; j < kGradTaps; ++j) acc[t][j] = _mm512_setzero_ps();
        }
        for (int64_t oy = 0; oy < out_h; ++oy) {
          const float* row = xp + (c * ph + oy + i) * pw + j0;
          const float* grad_row = dy + oy * out_w;
          for (int64_t ox = 0; ox < out_w; ox += 16) {
            const __mmask16 lanes = first_lanes(out_w - ox);  // the others' dy is 0
            __m512 grad[kT];
#pragma GCC unroll 8
            for (int t = 0; t < kT; ++t)
              grad[t] = _mm512_maskz_loadu_ps(lanes, grad_row + t * dy_stride + ox);
#pragma GCC unroll 8
            for (int j = 0; j < kGradTaps; ++j) {
              __m512 a = _mm512_loadu_ps(row + ox + j);
              asm("" : "+v"(a));  // loaded once for the kT channels, not once for each
#pragma GCC unroll 8
              for (int t = 0; t < kT; ++t) acc[t][j] = _mm512_fmadd_ps(a, grad[t], acc[t][j]);
            }
          }
        }
        float* out = dw + (c * g.kh + i) * g.kw + j0;
#pragma GCC unroll 8
        for (int t = 0; t < kT; ++t) {
#pragma GCC unroll 8
          for (int j = 0; j < kGradTaps; ++j) {
            if (j0 + j < g.kw) out[t * taps + j] += _mm512_reduce_add_ps(acc[t][j]);
          }
        }
      }
    }
  }
}

// The data gradient's tiles hold a block of kLanes images, one a lane: a tile is kX columns of dx's row in
// up to kMaxTileChannels channels, 24 accumulators, the kernel tap's weights and dy's vector in 7 more.
constexpr int64_t kLanes = 16, kX = 4, kMaxTileChannels = 6;

// Lane i: i × stride (floats from one image to the next, below 2^31 / kLanes).
STRATUM_AVX512 __m512i lane_offsets(int64_t stride) {
  return _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                            _mm512_set1_epi32(static_cast<int>(stride)));
}

// The block of images from n0 (`lanes` of them) of dy [images][outputs][out_h][out_w], its elements at
// `strides` (element_strides), into `to`.
STRATUM_AVX512 void gather_lanes(const Geometry& g, const float* dy, const memory::dims& strides,
                                 __mmask16 lanes, float* to) {
  const __m512i image = lane_offsets(strides[0]);
  for (int64_t o = 0; o < g.outputs; ++o) {
    for (int64_t oy = 0; oy < g.out_h; ++oy) {
      const float* row = dy + o * strides[1] + oy * strides[2];
      for (int64_t q = 0; q < g.lane_columns(); ++q, to += kLanes) {
        const int64_t ox = q + g.pad_w - (g.kw - 1);
        const bool inside = ox >= 0 && ox < g.out_w;
        _mm512_storeu_ps(
            to, inside ? _mm512_mask_i32gather_ps(_mm512_setzero_ps(), lanes, image, row + ox * strides[3], 4)
                       : _mm512_setzero_ps());
      }
    }
  }
}

// Row iy of dx's channels c0 .. c0 + kC - 1 for a block of images (`lanes` of them; dx's first at `dx`), from
// their lane rows (Geometry::lane_columns) and w packed [outputs][kh][kw][channels], kX columns at a time
// (the last kX overlapping the one before where kX does not divide the width). g by value, or each scatter
// would reload its fields.
template <int kC>
STRATUM_AVX512 void data_grad_row(const Geometry g, const float* dy, const float* w, int64_t c0, int64_t iy,
                                  __mmask16 lanes, float* dx) {
  const __m512i image = lane_offsets(g.channels * g.height * g.width);
  const int64_t ky_begin = std::max<int64_t>(0, iy + g.pad_h - g.out_h + 1),
                ky_end = std::min(g.kh, iy + g.pad_h + 1);
  for (int64_t ix0 = 0; ix0 < g.width; ix0 += kX) {
    const int64_t ix = std::min(ix0, g.width - kX);
    // The taps that reach dy from some column of the tile.
    const int64_t kx_begin = std::max<int64_t>(0, ix + g.pad_w - g.out_w + 1);
    const int64_t kx_end = std::min(g.kw, ix + kX + g.pad_w);
    __m512 acc[kC][kX];
#pragma GCC unroll 8
    for (int c = 0; c < kC; ++c) {
#pragma GCC unroll 8
      for (int x = 0; x < kX; ++x) acc[c][x] = _mm512_setzero_ps();
    }
    for (int64_t o = 0; o < g.outputs; ++o) {
      for (int64_t ky = ky_begin; ky < ky_end; ++ky) {
        const float* row =
            dy + ((o * g.out_h + iy + g.pad_h - ky) * g.lane_columns() + ix + g.kw - 1) * kLanes;
        const float* taps = w + ((o * g.kh + ky) * g.kw) * g.channels + c0;
        for (int64_t kx = kx_begin; kx < kx_end; ++kx) {
          __m512 grad[kX];
#pragma GCC unroll 8
          for (int x = 0; x < kX; ++x) grad[x] = _mm512_loadu_ps(row + (x - kx) * kLanes);
#pragma GCC unroll 8
          for (int c = 0; c < kC; ++c) {
            const __m512 weight = _mm512_set1_ps(taps[kx * g.channels + c]);
#pragma GCC unroll 8
            for (int x = 0; x < kX; ++x) acc[c][x] = _mm512_fmadd_ps(weight, grad[x], acc[c][x]);
          }
        }
      }
    }
#pragma GCC unroll 8
    for (int c = 0; c < kC; ++c) {
#pragma GCC unroll 8
      for (int x = 0; x < kX; ++x)
        _mm512_mask_i32scatter_ps(dx + ((c0 + c) * g.height + iy) * g.width + ix + x, lanes, image, acc[c][x],
                                  4);
    }
  }
}

using ForwardRow = void (*)(const Geometry&, const float*, const float*, const float*, Activation, float*,
                            int64_t, int64_t);
using WeightGradImage = void (*)(const Geometry&, const float*, const float*, int64_t, float*, float*);

using DataGradRow = void (*)(Geometry, const float*, const float*, int64_t, int64_t, __mmask16, float*);
template <int... k>
constexpr std::array<ForwardRow, sizeof...(k)> forward_rows(std::integer_sequence<int, k...>) {
  return {forward_row<k + 1>...};
}
template <int... k>
constexpr std::array<WeightGradImage, sizeof...(k)> weight_grad_images(std::integer_sequence<int, k...>) {
  return {weight_grad_image<k + 1>...};
}
template <int... k>
constexpr std::array<DataGradRow, sizeof...(k)> data_grad_rows(std::integer_sequence<int, k...>) {
  return {data_grad_row<k + 1>...};
}

}  // namespace

bool direct_conv_runs(const Node& node, DType dtype, const Shape& w) {
  return dtype == DType::f32 && w[0] <= kMaxOutputs && node.attr_int("groups") == 1 &&
         node.attr_ints("stride") == Ints{1, 1} && node.attr_ints("dilation") == Ints{1, 1} &&
         cpu_has_avx512();
}

void direct_conv_forward(const Node& node, Compiler& c, const Value* x, const Value* w, const Value* bias,
                         bool relu, const Value* y) {
  const Shape& xs = x->type().shape;
  const Geometry g = geometry_of(node, xs, w->type().shape, y->type().shape);
  const int64_t images = xs[0];
  const Activation activation = claim_activation(c, relu, y);
  const memory in = c.plain_input(x), weights = c.plain_input(w), out = c.plain_output(y);
  const memory b = bias ? c.plain_input(bias) : memory();
  const memory padded = c.buffer(plain_desc({images * g.padded_image()}));
  const memory packed = c.buffer(plain_desc({g.taps() * g.outputs}));
  const ForwardRow row = forward_rows(std::make_integer_sequence<int, kMaxOutputs>())[g.outputs - 1];
  std::vector<memory> touched = {in, weights, out, padded, packed};
  if (bias) touched.push_back(b);
  c.add_loop(
      [=] {
        const float* from = data<float>(weights);
        float* to = data<float>(packed);  // [taps][outputs] from [outputs][taps]
        for (int64_t o = 0; o < g.outputs; ++o) {
          for (int64_t k = 0; k < g.taps(); ++k) to[k * g.outputs + o] = from[o * g.taps() + k];
        }
        const float* bias_data = bias ? data<float>(b) : nullptr;
        const int64_t image_in = g.channels * g.height * g.width, image_out = g.outputs * g.out_plane();
        parallel_for(
            images,
            [&](int64_t n) {
              pad_image(g, data<float>(in) + n * image_in, data<float>(padded) + n * g.padded_image());
            },
            g.padded_image());
        parallel_for(
            images * g.out_h,
            [&](int64_t item) {
              const int64_t n = item / g.out_h, oy = item % g.out_h;
              row(g, data<float>(padded) + n * g.padded_image(), to, bias_data, activation,
                  data<float>(out) + n * image_out, g.out_plane(), oy);
            },
            g.out_w * g.taps() * g.outputs);
      },
      touched);
}

void direct_conv_weight_grad(const Node& node, Compiler& c, const memory& dy, const Value* x, const Value* dw,
                             const Value* db) {
  const Shape& xs = x->type().shape;
  const Shape ys = dy.get_desc().dims();
  const Geometry g = geometry_of(node, xs, dw->type().shape, ys);
  const int64_t images = xs[0], threads = omp_get_max_threads();
  const int64_t per_thread = g.outputs * (g.taps() + 1);  // dw, then db
  const memory in = c.plain_input(x), grad = c.convert(dy, plain_desc(ys)), weights_grad = c.plain_output(dw);
  const memory bias_grad = db ? c.plain_output(db) : memory();
  const memory padded = c.buffer(plain_desc({threads * g.padded_image()}));
  const memory partial = c.buffer(plain_desc({threads * per_thread}));
  const auto tiles = weight_grad_images(std::make_integer_sequence<int, kGradOutputs>());
  std::vector<memory> touched = {in, grad, weights_grad, padded, partial};
  if (db) touched.push_back(bias_grad);
  c.add_loop(
      [=] {
        float* sums = data<float>(partial);
        std::fill(sums, sums + threads * per_thread, 0.0f);
        const int64_t image_in = g.channels * g.height * g.width, image_out = g.outputs * g.out_plane();
#pragma omp parallel num_threads(threads)
        {
          const int64_t thread = omp_get_thread_num();
          float* xp = data<float>(padded) + thread * g.padded_image();
          float* dw_sum = sums + thread * per_thread;
          float* db_sum = dw_sum + g.outputs * g.taps();
#pragma omp for
          for (int64_t n = 0; n < images; ++n) {
            pad_image(g, data<float>(in) + n * image_in, xp);
            const float* dy_image = data<float>(grad) + n * image_out;
            for (int64_t o = 0; o < g.outputs; o += kGradOutputs) {
              const int64_t tile = std::min(kGradOutputs, g.outputs - o);
              tiles[tile - 1](g, xp, dy_image + o * g.out_plane(), g.out_plane(), dw_sum + o * g.taps(),
                              db ? db_sum + o : nullptr);
            }
          }
        }
        for (int64_t k = 0; k < per_thread; ++k) {
          for (int64_t t = 1; t < threads; ++t) sums[k] += sums[t * per_thread + k];
        }
        std::copy(sums, sums + g.outputs * g.taps(), data<float>(weights_grad));
        if (db) std::copy(sums + g.outputs * g.taps(), sums + per_thread, data<float>(bias_grad));
      },
      touched);
}

bool direct_conv_data_grad_runs(const Node& node, DType dtype, const Shape& w, const Shape& x) {
  const int64_t image_in = x[1] * x[2] * x[3];
  return dtype == DType::f32 && w[1] <= kMaxOutputs && x[3] >= kX && image_in * kLanes < (int64_t{1} << 31) &&
         node.attr_int("groups") == 1 && node.attr_ints("stride") == Ints{1, 1} &&
         node.attr_ints("dilation") == Ints{1, 1} && cpu_has_avx512();
}

void direct_conv_data_grad(const Node& node, Compiler& c, const memory& dy, const Value* w,
                           const Shape& x_shape, const Value* dx) {
  const Shape ys = dy.get_desc().dims();
  const Geometry g = geometry_of(node, x_shape, w->type().shape, ys);
  const int64_t images = x_shape[0], threads = omp_get_max_threads(), blocks = (images + kLanes - 1) / kLanes;
  // dy as it comes where its layout is strided (nChw16c of 16 channels is), else plain.
  const memory grad = element_strides(dy.get_desc()).empty() ? c.convert(dy, plain_desc(ys)) : dy;
  const memory::dims strides = element_strides(grad.get_desc());
  const memory out = c.plain_output(dx);
  // w as [outputs][kh][kw][channels].
  const memory weights =
      c.convert(c.plain_input(w),
                memory::desc(dims_of(w->type().shape), memory::data_type::f32, memory::format_tag::ohwi));
  const memory lane_rows = c.buffer(plain_desc({threads * g.lane_rows_size()}));
  const auto tiles = data_grad_rows(std::make_integer_sequence<int, kMaxTileChannels>());
  c.add_loop(
      [=] {
        const int64_t image_in = g.channels * g.height * g.width;
#pragma omp parallel num_threads(threads)
        {
          float* dy_lanes = data<float>(lane_rows) + omp_get_thread_num() * g.lane_rows_size();
#pragma omp for
          for (int64_t b = 0; b < blocks; ++b) {
            const int64_t n0 = b * kLanes;
            const __mmask16 lanes = first_lanes(images - n0);
            gather_lanes(g, data<float>(grad) + n0 * strides[0], strides, lanes, dy_lanes);
            for (int64_t c0 = 0; c0 < g.channels; c0 += kMaxTileChannels) {
              const int64_t tile = std::min(kMaxTileChannels, g.channels - c0);
              for (int64_t iy = 0; iy < g.height; ++iy)
                tiles[tile - 1](g, dy_lanes, data<float>(weights), c0, iy, lanes,
                                data<float>(out) + n0 * image_in);
            }
          }
        }
      },
      {grad, weights, out, lane_rows});
}

}  // namespace stratum::onednn
