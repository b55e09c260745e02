// A convolution of one image with a small output plane (ResNet-18's and GoogLeNet's last stages at batch
// 1, 3×3 to 6×6 pixels) is bound by reading its weights: 9.4 MB for 42 MFLOP in ResNet-18's stage 4, which
// oneDNN 2.6's direct kernel reads at 18 GB/s (0.48 ms a conv on an AMD Zen 5, where ONNX Runtime takes
// 0.28). Here the image is first unfolded, [pixels][taps] (the pixels shared among the threads), and each
// pair of blocks of 16 output channels streams its weights (oneDNN's ABcd16b16a, reordered once where they
// are constant) through tiles of up to kMaxTile pixels, an accumulator a pixel and block, adding the bias,
// then the residual, then relu on the way out: 0.20 ms, 0.37 without the software prefetch (32 taps ahead:
// 0.23). Pairs, not single blocks, take GoogLeNet's 6×6 and 3×3 convs from 0.102-0.106 to 0.092-0.094 ms
// (its inc5) and 0.052-0.063 to 0.045-0.048 (b5's inc2), as each pixel's broadcast serves two FMAs. x, y and
// the residual are in nChw16c, the layout of oneDNN's convolutions around it.
#include <omp.h>

#include <algorithm>
#include <array>
#include <utility>

#include "plugins/onednn/avx512.h"
#include "plugins/onednn/ops.h"

namespace stratum::onednn {

namespace {

using dnnl::memory;

constexpr int64_t kBlock = 16, kMaxTile = 12;
// Weights are prefetched this many taps (64 bytes each) ahead.
constexpr int64_t kPrefetch = 64;
// The largest output plane (pixels) this kernel takes: at 6×6 it is as fast as oneDNN's (ResNet-18's stage 3,
// 0.21 ms), at 12×12 slower (0.26 ms against 0.16), where oneDNN's reuse of each weight over a row pays.
constexpr int64_t kMaxPlane = 6 * 6;

struct Unfold {
  int64_t channels, height, width, kh, kw, out_h, out_w, stride_h, stride_w, pad_h, pad_w, dilation_h,
      dilation_w;
  int64_t pixels() const { return out_h * out_w; }
  int64_t taps() const { return channels * kh * kw; }
};

// Output pixel p's taps of x (nChw16c) into `to`, its row of the unfolded [pixels][taps]: ordered
// [C/16][kh][kw][16] (16 channels a vector), zeros where a tap falls in the padding.
STRATUM_AVX512 void unfold(const Unfold& u, const float* x, int64_t p, float* to) {
  const int64_t oy = p / u.out_w, ox = p % u.out_w;
  for (int64_t block = 0; block < u.channels / kBlock; ++block) {
    const float* plane = x + block * u.height * u.width * kBlock;
    for (int64_t ky = 0; ky < u.kh; ++ky) {
      const int64_t iy = oy * u.stride_h - u.pad_h + ky * u.dilation_h;
      for (int64_t kx = 0; kx < u.kw; ++kx, to += kBlock) {
        const int64_t ix = ox * u.stride_w - u.pad_w + kx * u.dilation_w;
        const bool inside = iy >= 0 && iy < u.height && ix >= 0 && ix < u.width;
        _mm512_storeu_ps(
            to, inside ? _mm512_loadu_ps(plane + (iy * u.width + ix) * kBlock) : _mm512_setzero_ps());
      }
    }
  }
}

// Pixels p0 .. p0 + kTile - 1 of kBlocks blocks of 16 output channels (their weights `taps` vectors apart,
// their planes of y and the residual `plane` floats apart): each pixel's broadcast serves every block.
template <int kTile, int kBlocks>
STRATUM_AVX512 void tile(int64_t taps, int64_t plane, const float* unfolded, const float* weights,
                         const float* bias, const float* residual, bool relu, int64_t p0, float* y) {
  __m512 acc[kBlocks][kTile];
#pragma GCC unroll 2
  for (int j = 0; j < kBlocks; ++j) {
    const __m512 b = bias ? _mm512_loadu_ps(bias + j * kBlock) : _mm512_setzero_ps();
#pragma GCC unroll 32
    for (int t = 0; t < kTile; ++t) acc[j][t] = b;
  }
  const float* column = unfolded + p0 * taps;
  for (int64_t k = 0; k < taps; ++k) {
    __m512 w[kBlocks];
#pragma GCC unroll 2
    for (int j = 0; j < kBlocks; ++j) {
      const float* at = weights + (j * taps + k) * kBlock;
      _mm_prefetch(reinterpret_cast<const char*>(at + kPrefetch * kBlock), _MM_HINT_T0);
      w[j] = _mm512_loadu_ps(at);
    }
#pragma GCC unroll 32
    for (int t = 0; t < kTile; ++t) {
      const __m512 x = _mm512_set1_ps(column[t * taps + k]);
#pragma GCC unroll 2
      for (int j = 0; j < kBlocks; ++j) acc[j][t] = _mm512_fmadd_ps(w[j], x, acc[j][t]);
    }
  }
#pragma GCC unroll 2
  for (int j = 0; j < kBlocks; ++j) {
#pragma GCC unroll 32
    for (int t = 0; t < kTile; ++t) {
      const int64_t at = j * plane + (p0 + t) * kBlock;
      __m512 v = residual ? _mm512_add_ps(acc[j][t], _mm512_loadu_ps(residual + at)) : acc[j][t];
      _mm512_storeu_ps(y + at, relu ? _mm512_max_ps(v, _mm512_setzero_ps()) : v);
    }
  }
}

using Tile = void (*)(int64_t, int64_t, const float*, const float*, const float*, const float*, bool, int64_t,
                      float*);
// tile<size, kBlocks> by size - 1.
template <int kBlocks, int... k>
constexpr std::array<Tile, sizeof...(k)> tiles(std::integer_sequence<int, k...>) {
  return {tile<k + 1, kBlocks>...};
}

}  // namespace

bool single_image_conv_runs(const Node& node, DType dtype, const Shape& x, const Shape& w, const Shape& y) {
  return dtype == DType::f32 && x[0] == 1 && y[2] * y[3] <= kMaxPlane && x[1] % kBlock == 0 &&
         w[0] % kBlock == 0 && node.attr_int("groups") == 1 && cpu_has_avx512();
}

void single_image_conv_forward(const Node& node, Compiler& c, const Value* x, const Value* w,
                               const Value* bias, const Value* residual, bool relu, const Value* y) {
  const Shape &xs = x->type().shape, &ws = w->type().shape, &ys = y->type().shape;
  const Ints stride = node.attr_ints("stride"), padding = node.attr_ints("padding"),
             dilation = node.attr_ints("dilation");
  const Unfold u{xs[1],     xs[2],     xs[3],      ws[2],      ws[3],       ys[2],      ys[3],
                 stride[0], stride[1], padding[0], padding[1], dilation[0], dilation[1]};
  const int64_t blocks = ws[0] / kBlock, pixels = u.pixels();
  const memory in = c.input(x, channel_blocked(x, kBlock));
  const memory weights = c.convert(
      c.plain_input(w), memory::desc(dims_of(ws), memory::data_type::f32, memory::format_tag::ABcd16b16a));
  const memory out = c.output(y, channel_blocked(y, kBlock));
  const memory unfolded = c.buffer(plain_desc({u.taps() * pixels}));
  std::vector<memory> touched = {in, weights, out, unfolded};
  const memory b = bias ? c.plain_input(bias) : memory();
  const memory r = residual ? c.input(residual, channel_blocked(y, kBlock)) : memory();
  if (bias) touched.push_back(b);
  if (residual) touched.push_back(r);
  // Tiles of sizes within one of each other, as few as hold the plane; where there are fewer pairs than
  // threads, as many as the threads, who then share each pair's tiles (DenseNet's convs of 32 outputs: one
  // pair, which one thread computed while the other waited).
  const int64_t pairs = (blocks + 1) / 2;  // of blocks, the last alone where their number is odd
  const int64_t threads = omp_get_max_threads(), least = (pixels + kMaxTile - 1) / kMaxTile;
  const bool shared = pairs < threads;
  const int64_t tile_count = shared ? std::min(pixels, (least + threads - 1) / threads * threads) : least;
  // Each work item computes per_item tiles of one pair.
  const int64_t per_item = shared ? 1 : tile_count, items = pairs * tile_count / per_item;
  const auto one = tiles<1>(std::make_integer_sequence<int, kMaxTile>());
  const auto two = tiles<2>(std::make_integer_sequence<int, kMaxTile>());
  c.add_loop(
      [=] {
        const float* bias_data = bias ? data<float>(b) : nullptr;
        const float* residual_data = residual ? data<float>(r) : nullptr;
#pragma omp parallel
        {
#pragma omp for
          for (int64_t p = 0; p < pixels; ++p)
            unfold(u, data<float>(in), p, data<float>(unfolded) + p * u.taps());
#pragma omp for
          for (int64_t i = 0; i < items; ++i) {
            const int64_t first = i * per_item, o = 2 * (first / tile_count), plane = o * pixels * kBlock;
            const auto& table = o + 1 < blocks ? two : one;
            for (int64_t t = first % tile_count, end = t + per_item; t < end; ++t) {
              const int64_t p0 = t * pixels / tile_count, p1 = (t + 1) * pixels / tile_count;
              table[p1 - p0 - 1](
                  u.taps(), pixels * kBlock, data<float>(unfolded),
                  data<float>(weights) + o * u.taps() * kBlock, bias_data ? bias_data + o * kBlock : nullptr,
                  residual_data ? residual_data + plane : nullptr, relu, p0, data<float>(out) + plane);
            }
          }
        }
      },
      touched);
}

}  // namespace stratum::onednn
