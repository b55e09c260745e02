// Convolutions of one image, where oneDNN 2.6's direct kernel falls short on an AMD Zen 5 at batch 1.
// - Small output planes (ResNet-18's and GoogLeNet's last stages, 3×3 to 6×6 pixels) are bound by reading
//   their weights: 9.4 MB for 42 MFLOP in ResNet-18's stage 4, which oneDNN read at 18 GB/s (0.48 ms a conv,
//   where ONNX Runtime takes 0.28). Here the image is first unfolded, [pixels][taps] (the pixels shared among
//   the threads), and each pair of blocks of 16 output channels streams its weights (oneDNN's ABcd16b16a,
//   reordered once where they are constant) through tiles of up to kMaxTile pixels, an accumulator a pixel
//   and block: 0.20 ms, 0.37 without the software prefetch (32 taps ahead: 0.23). Pairs, not single blocks,
//   take GoogLeNet's 6×6 and 3×3 convs from 0.102-0.106 to 0.092-0.094 ms (its inc5) and 0.052-0.063 to
//   0.045-0.048 (b5's inc2), as each pixel's broadcast serves two FMAs.
// - 3×3 convs at stride 1 or 2 and padding 1 on rows of 6 pixels or more, ungrouped or in groups of 16
//   channels, read x in place, a row tile of up to 12 pixels of a pair of output blocks (of one, grouped) at
//   a time (row_tile): oneDNN's ran DenseNet's 24×24 convs of 32 outputs at 250-300 GFLOP/s on 2 cores, these
//   at 190 on one (89% of its FMA peak) and 280-330 on two.
// Both add the bias, then the residual, then apply relu on the way out. x, y and the residual are in
// nChw16c, the layout of oneDNN's convolutions around them.
#include <omp.h>

#include <algorithm>
#include <array>
#include <functional>
#include <utility>

#include "plugins/onednn/avx512.h"
#include "plugins/onednn/ops.h"

namespace stratum::onednn {

namespace {

using dnnl::memory;

constexpr int64_t kBlock = 16, kMaxTile = 12;
// Weights are prefetched this many taps (64 bytes each) ahead.
constexpr int64_t kPrefetch = 64;
// Row tiles prefetch the weights of the next kernel row (3 × 16 × 16 floats ahead).
constexpr int64_t kRowPrefetch = 3 * kBlock * kBlock;
// The largest output plane (pixels) the unfolded conv takes: at 6×6 it is as fast as oneDNN's (ResNet-18's
// stage 3, 0.21 ms), at 12×12 slower (0.26 ms against 0.16), where oneDNN's reuse of each weight over a row
// pays. 3×3 convs at stride 1 and padding 1 go by rows from 6 pixels a row (row tiles of 6 to 12 pixels): at
// 6×6 DenseNet's 0.023-0.036 ms unfolded, 0.014-0.023 by rows.
constexpr int64_t kMaxPlane = 6 * 6, kMinRowTile = 6;

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

// The accumulators of kTile pixels of kBlocks blocks of 16 output channels, started at the bias.
template <int kTile, int kBlocks>
STRATUM_AVX512 inline void start(__m512 (&acc)[kBlocks][kTile], const float* bias) {
#pragma GCC unroll 2
  for (int j = 0; j < kBlocks; ++j) {
    const __m512 b = bias ? _mm512_loadu_ps(bias + j * kBlock) : _mm512_setzero_ps();
#pragma GCC unroll 32
    for (int t = 0; t < kTile; ++t) acc[j][t] = b;
  }
}

// Stores them at pixel p0 on of y's blocks (`plane` floats apart, as the residual's), adding the residual,
// then applying relu.
template <int kTile, int kBlocks>
STRATUM_AVX512 inline void finish(const __m512 (&acc)[kBlocks][kTile], int64_t plane, const float* residual,
                                  bool relu, int64_t p0, float* y) {
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

// Pixels p0 .. p0 + kTile - 1 of kBlocks blocks of 16 output channels (their weights `taps` vectors apart,
// their planes of y and the residual `plane` floats apart): each pixel's broadcast serves every block.
template <int kTile, int kBlocks>
STRATUM_AVX512 void tile(int64_t taps, int64_t plane, const float* unfolded, const float* weights,
                         const float* bias, const float* residual, bool relu, int64_t p0, float* y) {
  __m512 acc[kBlocks][kTile];
  start(acc, bias);
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
  finish(acc, plane, residual, relu, p0, y);
}

// A 3×3 conv at stride 1 or 2 and padding 1 of x's plane of `height` × `width` into y's of `out_h` ×
// `out_w`, read straight from x.
struct Rows {
  int64_t channels, height, width, out_h, out_w;
  int64_t taps() const { return channels * 9; }
};

// Pixels ox0 .. ox0 + kTile - 1 of row oy, of kBlocks blocks of 16 output channels, by a Rows conv at stride
// kStride. kLeft and kRight: the first or last of the tile's columns of x is padding (at the row's edge). For
// each input row and channel, the 3 × kBlocks weight vectors are loaded once, and each column's broadcast
// serves the FMAs of every pixel it is a tap of (3 × kBlocks at stride 1).
template <int kTile, int kBlocks, int kStride, bool kLeft, bool kRight>
STRATUM_AVX512 void row_tile(const Rows& r, const float* x, const float* weights, const float* bias,
                             const float* residual, bool relu, int64_t oy, int64_t ox0, float* y) {
  __m512 acc[kBlocks][kTile];
  start(acc, bias);
  const int64_t block_stride = r.taps() * kBlock;  // between output blocks' weights
  for (int64_t block = 0; block < r.channels / kBlock; ++block) {
    for (int64_t ky = 0; ky < 3; ++ky) {
      const int64_t iy = oy * kStride + ky - 1;
      if (iy < 0 || iy >= r.height) continue;
      const float* row = x + ((block * r.height + iy) * r.width + ox0 * kStride) * kBlock;
      const float* w = weights + (block * 3 + ky) * 3 * kBlock * kBlock;
#pragma GCC unroll 1
      for (int c = 0; c < kBlock; ++c) {
        __m512 wv[3][kBlocks];
#pragma GCC unroll 3
        for (int kx = 0; kx < 3; ++kx) {
#pragma GCC unroll 2
          for (int j = 0; j < kBlocks; ++j) {
            const float* at = w + j * block_stride + (kx * kBlock + c) * kBlock;
            _mm_prefetch(reinterpret_cast<const char*>(at + kRowPrefetch), _MM_HINT_T0);
            wv[kx][j] = _mm512_loadu_ps(at);
          }
        }
        constexpr int kColumns = kStride * (kTile - 1) + 3;
#pragma GCC unroll 32
        for (int i = kLeft ? 1 : 0; i < (kRight ? kColumns - 1 : kColumns); ++i) {  // x's ox0·kStride + i - 1
          const __m512 xv = _mm512_set1_ps(row[(i - 1) * kBlock + c]);
#pragma GCC unroll 3
          for (int kx = 0; kx < 3; ++kx) {
            const int t = (i - kx) / kStride;
            if (i < kx || (i - kx) % kStride != 0 || t >= kTile) continue;
#pragma GCC unroll 2
            for (int j = 0; j < kBlocks; ++j) acc[j][t] = _mm512_fmadd_ps(wv[kx][j], xv, acc[j][t]);
          }
        }
      }
    }
  }
  finish(acc, r.out_h * r.out_w * kBlock, residual, relu, oy * r.out_w + ox0, y);
}

using Tile = void (*)(int64_t, int64_t, const float*, const float*, const float*, const float*, bool, int64_t,
                      float*);
// tile<size, kBlocks> by size - 1.
template <int kBlocks, int... k>
constexpr std::array<Tile, sizeof...(k)> tiles(std::integer_sequence<int, k...>) {
  return {tile<k + 1, kBlocks>...};
}

using RowTile = void (*)(const Rows&, const float*, const float*, const float*, const float*, bool, int64_t,
                         int64_t, float*);
// row_tile<size, kBlocks, kStride, ...> by size - kMinRowTile, for each of [kLeft][kRight].
template <int kBlocks, int kStride, int... k>
constexpr std::array<std::array<std::array<RowTile, sizeof...(k)>, 2>, 2> row_tiles(
    std::integer_sequence<int, k...>) {
  return {{{{{row_tile<k + kMinRowTile, kBlocks, kStride, false, false>...},
             {row_tile<k + kMinRowTile, kBlocks, kStride, false, true>...}}},
           {{{row_tile<k + kMinRowTile, kBlocks, kStride, true, false>...},
             {row_tile<k + kMinRowTile, kBlocks, kStride, true, true>...}}}}};
}

bool by_rows(const Node& node, const Shape& w, const Shape& y) {
  const Ints& stride = node.attr_ints("stride");
  return w[2] == 3 && w[3] == 3 && y[3] >= kMinRowTile && stride[0] == stride[1] && stride[0] <= 2 &&
         node.attr_ints("padding") == Ints{1, 1} && node.attr_ints("dilation") == Ints{1, 1};
}

// Rows conv: each work item is one tile of one pair of output blocks (the last alone where their number is
// odd), or, `grouped` in groups of 16 channels (r.channels), of one block, which reads x's block of the same
// number; the tiles of a row sized within one of each other.
std::function<void()> rows_loop(const Rows& r, int64_t stride, bool grouped, int64_t blocks, const memory& in,
                                const memory& weights, const memory& b, const memory& res, bool relu,
                                const memory& out) {
  const int64_t per_item = grouped ? 1 : 2, per_row = (r.out_w + kMaxTile - 1) / kMaxTile;
  const int64_t items = (blocks + per_item - 1) / per_item * r.out_h * per_row;
  constexpr auto sizes = std::make_integer_sequence<int, kMaxTile - kMinRowTile + 1>();
  const auto one = stride == 1 ? row_tiles<1, 1>(sizes) : row_tiles<1, 2>(sizes);
  const auto two = stride == 1 ? row_tiles<2, 1>(sizes) : row_tiles<2, 2>(sizes);
  return [=] {
    const float* bias = b ? data<float>(b) : nullptr;
    const float* residual = res ? data<float>(res) : nullptr;
    const int64_t plane = r.out_h * r.out_w * kBlock;
#pragma omp parallel for
    for (int64_t i = 0; i < items; ++i) {
      const int64_t o = per_item * (i / (r.out_h * per_row)), oy = i / per_row % r.out_h, t = i % per_row;
      const int64_t x0 = t * r.out_w / per_row, x1 = (t + 1) * r.out_w / per_row;
      const bool right = (x1 - 1) * stride + 1 >= r.width;  // the last pixel's last tap is padding
      const auto& table = !grouped && o + 1 < blocks ? two : one;
      table[t == 0][right][x1 - x0 - kMinRowTile](
          r, data<float>(in) + (grouped ? o * r.height * r.width * kBlock : 0),
          data<float>(weights) + o * r.taps() * kBlock, bias ? bias + o * kBlock : nullptr,
          residual ? residual + o * plane : nullptr, relu, oy, x0, data<float>(out) + o * plane);
    }
  };
}

// Unfolded conv: each work item computes per_item tiles of one pair.
std::function<void()> unfolded_loop(const Unfold& u, int64_t blocks, const memory& in, const memory& weights,
                                    const memory& b, const memory& res, bool relu, const memory& out,
                                    const memory& unfolded) {
  // Tiles of sizes within one of each other, as few as hold the plane; where there are fewer pairs than
  // threads, as many as the threads, who then share each pair's tiles (DenseNet's convs of 32 outputs: one
  // pair, which one thread computed while the other waited).
  const int64_t pixels = u.pixels(), pairs = (blocks + 1) / 2;
  const int64_t threads = omp_get_max_threads(), least = (pixels + kMaxTile - 1) / kMaxTile;
  const bool shared = pairs < threads;
  const int64_t tile_count = shared ? std::min(pixels, (least + threads - 1) / threads * threads) : least;
  const int64_t per_item = shared ? 1 : tile_count, items = pairs * tile_count / per_item;
  const auto one = tiles<1>(std::make_integer_sequence<int, kMaxTile>());
  const auto two = tiles<2>(std::make_integer_sequence<int, kMaxTile>());
  return [=] {
    const float* bias = b ? data<float>(b) : nullptr;
    const float* residual = res ? data<float>(res) : nullptr;
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
          table[p1 - p0 - 1](u.taps(), pixels * kBlock, data<float>(unfolded),
                             data<float>(weights) + o * u.taps() * kBlock, bias ? bias + o * kBlock : nullptr,
                             residual ? residual + plane : nullptr, relu, p0, data<float>(out) + plane);
        }
      }
    }
  };
}

// Groups of 16 channels in and out (RegNetX's): each output block reads the input block of its number.
bool groups_of_16(const Node& node, const Shape& w) {
  return w[1] == kBlock && w[0] / node.attr_int("groups") == kBlock;
}

}  // namespace

bool single_image_conv_runs(const Node& node, DType dtype, const Shape& x, const Shape& w, const Shape& y) {
  const bool ungrouped = node.attr_int("groups") == 1;
  return dtype == DType::f32 && x[0] == 1 && x[1] % kBlock == 0 && w[0] % kBlock == 0 && cpu_has_avx512() &&
         ((ungrouped && y[2] * y[3] <= kMaxPlane) ||
          ((ungrouped || groups_of_16(node, w)) && by_rows(node, w, y)));
}

void single_image_conv_forward(const Node& node, Compiler& c, const Value* x, const Value* w,
                               const Value* bias, const Value* residual, bool relu, const Value* y) {
  const Shape &xs = x->type().shape, &ws = w->type().shape, &ys = y->type().shape;
  const int64_t blocks = ws[0] / kBlock;
  const memory in = c.input(x, channel_blocked(x, kBlock));
  const memory weights = c.convert(
      c.plain_input(w), memory::desc(dims_of(ws), memory::data_type::f32, memory::format_tag::ABcd16b16a));
  const memory out = c.output(y, channel_blocked(y, kBlock));
  std::vector<memory> touched = {in, weights, out};
  const memory b = bias ? c.plain_input(bias) : memory();
  const memory r = residual ? c.input(residual, channel_blocked(y, kBlock)) : memory();
  if (bias) touched.push_back(b);
  if (residual) touched.push_back(r);
  if (by_rows(node, ws, ys)) {
    const Rows rows{ws[1], xs[2], xs[3], ys[2], ys[3]};
    const bool grouped = node.attr_int("groups") > 1;
    return c.add_loop(
        rows_loop(rows, node.attr_ints("stride")[0], grouped, blocks, in, weights, b, r, relu, out), touched);
  }
  const Ints stride = node.attr_ints("stride"), padding = node.attr_ints("padding"),
             dilation = node.attr_ints("dilation");
  const Unfold u{xs[1],     xs[2],     xs[3],      ws[2],      ws[3],       ys[2],      ys[3],
                 stride[0], stride[1], padding[0], padding[1], dilation[0], dilation[1]};
  const memory unfolded = c.buffer(plain_desc({u.taps() * u.pixels()}));
  touched.push_back(unfolded);
  c.add_loop(unfolded_loop(u, blocks, in, weights, b, r, relu, out, unfolded), touched);
}

}  // namespace stratum::onednn
