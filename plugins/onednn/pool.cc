// Pooling ops as oneDNN pooling primitives in the layout of their input. max_pool_grad needs the forward's
// workspace (where each maximum was): it takes the one the forward node of the same window left, or runs the
// forward again itself when that node is in another subgraph. The fused avg_pool_sigmoid_grad is a loop.
#include <algorithm>

#include "plugins/onednn/avx512.h"
#include "plugins/onednn/ops.h"

namespace stratum::onednn {

namespace {

using dnnl::memory;

constexpr dnnl::algorithm kMax = dnnl::algorithm::pooling_max;
// global_avg_pool's windows have no padding: either average serves.
constexpr dnnl::algorithm kGlobalAverage = dnnl::algorithm::pooling_avg_include_padding;

// avg_pool's divisor: the kernel area (PyTorch's default), or only the window's elements that are not
// padding.
dnnl::algorithm average_of(const Node& node) {
  return node.attr_bool("count_include_pad") ? dnnl::algorithm::pooling_avg_include_padding
                                             : dnnl::algorithm::pooling_avg_exclude_padding;
}

struct Window {
  memory::dims kernel, strides, padding;
};

Window window(const Node& node) {
  const Ints &k = node.attr_ints("kernel"), &s = node.attr_ints("stride"), &p = node.attr_ints("padding");
  return {{k[0], k[1]}, {s[0], s[1]}, {p[0], p[1]}};
}

// global_avg_pool: one window over each whole plane of x [N,C,H,W].
Window global_window(const Shape& x) { return {{x[2], x[3]}, {1, 1}, {0, 0}}; }

dnnl::pooling_forward::primitive_desc forward_pd(dnnl::algorithm algorithm, dnnl::prop_kind prop,
                                                 const memory::desc& src, const Shape& y, const Window& w,
                                                 Compiler& c) {
  const dnnl::pooling_forward::desc desc(prop, algorithm, src, any_desc(dims_of(y), src.data_type()),
                                         w.strides, w.kernel, w.padding, w.padding);
  return {desc, c.attr(), c.engine()};
}

dnnl::pooling_backward::primitive_desc backward_pd(dnnl::algorithm algorithm, const memory::desc& diff_src,
                                                   const memory::desc& diff_dst, const Window& w,
                                                   const dnnl::pooling_forward::primitive_desc& forward,
                                                   Compiler& c) {
  const dnnl::pooling_backward::desc desc(algorithm, diff_src, diff_dst, w.strides, w.kernel, w.padding,
                                          w.padding);
  return {desc, c.attr(), c.engine(), forward};
}

// Whether `backward` (max_pool_grad: dy, x) is the gradient of `forward` (max_pool: x).
bool is_gradient_of(const Node& backward, const Node& forward) {
  return backward.op_name() == "max_pool_grad" && forward.op_name() == "max_pool" &&
         backward.input(1) == forward.input(0) && backward.attrs() == forward.attrs();
}

// x -> y; with a workspace for max_pool_grad when one in this subgraph pools the same window.
void max_pool(const Node& node, Compiler& c) {
  const memory x = c.input(node.input(0));
  bool has_gradient = false;
  for (const Node* user : node.input(0)->users()) has_gradient |= is_gradient_of(*user, node);
  const auto pd =
      forward_pd(kMax, has_gradient ? dnnl::prop_kind::forward_training : dnnl::prop_kind::forward_inference,
                 x.get_desc(), node.output()->type().shape, window(node), c);
  Args args = {{DNNL_ARG_SRC, x}, {DNNL_ARG_DST, c.output(node.output(), pd.dst_desc())}};
  if (has_gradient) {
    args[DNNL_ARG_WORKSPACE] = c.buffer(pd.workspace_desc());
    c.set_workspace(&node, args[DNNL_ARG_WORKSPACE]);
  }
  c.add(pd, std::move(args));
}

// The workspace of a max_pool computed before `node` in this subgraph over the same window; null if none.
memory forward_workspace(const Node& node, const Compiler& c) {
  for (const Node* user : node.input(1)->users()) {
    if (is_gradient_of(node, *user) && c.workspace(user)) return c.workspace(user);
  }
  return memory();
}

// (dy, x) -> dx: dy routed to the first maximum of each window, in x's layout.
void max_pool_grad(const Node& node, Compiler& c) {
  const memory x = c.input(node.input(1));
  const Window w = window(node);
  const auto forward =
      forward_pd(kMax, dnnl::prop_kind::forward_training, x.get_desc(), node.input(0)->type().shape, w, c);
  memory workspace = forward_workspace(node, c);
  if (!workspace) {
    workspace = c.buffer(forward.workspace_desc());
    c.add(forward,
          {{DNNL_ARG_SRC, x}, {DNNL_ARG_DST, c.buffer(forward.dst_desc())}, {DNNL_ARG_WORKSPACE, workspace}});
  }
  const auto pd = backward_pd(kMax, x.get_desc(), forward.dst_desc(), w, forward, c);
  c.add(pd, {{DNNL_ARG_DIFF_DST, c.input(node.input(0), pd.diff_dst_desc())},
             {DNNL_ARG_WORKSPACE, workspace},
             {DNNL_ARG_DIFF_SRC, c.output(node.output(), pd.diff_src_desc())}});
}

// Whether windows two columns wide tile x (stride = kernel, no padding), leaving at most a last partial row
// and column: LeNet's, which our own forward below takes.
bool pairs_tile(const Window& w) {
  return w.kernel == w.strides && w.padding == memory::dims{0, 0} && w.kernel[1] == 2;
}

// avg_pool of one plain row of windows two columns wide that tile, 16 outputs at a time: their kernel[0]
// rows of 32 columns summed down, then the columns' sums added in pairs.
STRATUM_AVX512 void average_row(const float* in, int64_t width, const Window& w, float* out, int64_t out_w) {
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
  const __m512 per_element = _mm512_set1_ps(1.0f / static_cast<float>(w.kernel[0] * 2));
  for (int64_t ox = 0; ox < out_w; ox += 16) {
    const int64_t columns = std::min<int64_t>(16, out_w - ox) * 2;
    const __mmask16 low = first_lanes(columns), high = first_lanes(columns - 16);
    __m512 sum_low = _mm512_setzero_ps(), sum_high = _mm512_setzero_ps();
    for (int64_t ky = 0; ky < w.kernel[0]; ++ky) {
      const float* row = in + ky * width + ox * 2;
      sum_low = _mm512_add_ps(sum_low, _mm512_maskz_loadu_ps(low, row));
      sum_high = _mm512_add_ps(sum_high, _mm512_maskz_loadu_ps(high, row + 16));
    }
    const __m512 pairs = _mm512_add_ps(_mm512_permutex2var_ps(sum_low, even, sum_high),
                                       _mm512_permutex2var_ps(sum_low, odd, sum_high));
    _mm512_mask_storeu_ps(out + ox, first_lanes(out_w - ox), _mm512_mul_ps(pairs, per_element));
  }
}

// avg_pool of a plain f32 x whose windows (two columns wide) tile it, row by row (oneDNN's kernel for plain
// layouts took 0.42 ms on LeNet's first pooling, this 0.14).
void average_plain(const Node& node, Compiler& c, const Window& w) {
  const Shape &x = node.input(0)->type().shape, &y = node.output()->type().shape;
  const memory in = c.plain_input(node.input(0)), out = c.plain_output(node.output());
  const int64_t rows = y[0] * y[1] * y[2], out_h = y[2], out_w = y[3], height = x[2], width = x[3];
  c.add_loop(
      [=] {
        const float* from = data<float>(in);
        float* to = data<float>(out);
        parallel_for(
            rows,
            [&](int64_t row) {
              const int64_t plane = row / out_h, oy = row % out_h;
              average_row(from + (plane * height + oy * w.kernel[0]) * width, width, w, to + row * out_w,
                          out_w);
            },
            out_w * w.kernel[0] * w.kernel[1]);
      },
      {in, out});
}

// avg_pool and global_avg_pool: x -> y
void average(const Node& node, Compiler& c, dnnl::algorithm algorithm, const Window& w) {
  const memory x = c.input(node.input(0));
  const Value* value = node.input(0);
  if (value->type().dtype == DType::f32 && x.get_desc() == plain_desc(value->type()) && pairs_tile(w) &&
      cpu_has_avx512()) {
    return average_plain(node, c, w);
  }
  const auto pd = forward_pd(algorithm, dnnl::prop_kind::forward_inference, x.get_desc(),
                             node.output()->type().shape, w, c);
  c.add(pd, {{DNNL_ARG_SRC, x}, {DNNL_ARG_DST, c.output(node.output(), pd.dst_desc())}});
}

// avg_pool_grad and global_avg_pool_grad: dy -> dx, in dy's layout (the forward's input is not at hand).
void average_grad(const Node& node, Compiler& c, dnnl::algorithm algorithm, const Window& w) {
  const memory dy = c.input(node.input(0));
  const Shape& x = node.output()->type().shape;
  const memory::data_type type = dy.get_desc().data_type();
  const auto forward = forward_pd(algorithm, dnnl::prop_kind::forward_training, plain_desc(dims_of(x), type),
                                  node.input(0)->type().shape, w, c);
  const auto pd = backward_pd(algorithm, any_desc(dims_of(x), type), dy.get_desc(), w, forward, c);
  c.add(pd, {{DNNL_ARG_DIFF_DST, c.convert(dy, pd.diff_dst_desc())},
             {DNNL_ARG_DIFF_SRC, c.output(node.output(), pd.diff_src_desc())}});
}

void avg_pool(const Node& node, Compiler& c) { average(node, c, average_of(node), window(node)); }
void avg_pool_grad(const Node& node, Compiler& c) { average_grad(node, c, average_of(node), window(node)); }
void global_avg_pool(const Node& node, Compiler& c) {
  average(node, c, kGlobalAverage, global_window(node.input(0)->type().shape));
}
void global_avg_pool_grad(const Node& node, Compiler& c) {
  average_grad(node, c, kGlobalAverage, global_window(node.output()->type().shape));
}

// Where each 16 columns of a plain row find their dy: for a run of columns starting at a column r past a
// window's first (r < k_w), lane l's window counted from that one, (r + l)/k_w; the lanes of r = 0..k_w-1.
std::vector<int32_t> window_lanes(int64_t k_w) {
  std::vector<int32_t> lanes(k_w * 16);
  for (int64_t r = 0; r < k_w; ++r) {
    for (int64_t l = 0; l < 16; ++l) lanes[r * 16 + l] = static_cast<int32_t>((r + l) / k_w);
  }
  return lanes;
}

// avg_pool_sigmoid_grad's loop over one plain row of `width` columns, the first `covered` in windows of k_w:
// 16 columns at a time, their dy (of `pooled` windows) spread over them by a permutation.
STRATUM_AVX512 void sigmoid_pool_grad_row(const float* in, const float* grad, float* out, int64_t width,
                                          int64_t covered, int64_t pooled, int64_t k_w, const int32_t* lanes,
                                          float per_element) {
  const __m512 scale = _mm512_set1_ps(per_element), one = _mm512_set1_ps(1.0f), zero = _mm512_setzero_ps();
  int64_t window = 0, r = 0;  // the first column's
  for (int64_t x = 0; x < width; x += 16) {
    const __m512 y = _mm512_maskz_loadu_ps(first_lanes(width - x), in + x);
    const __m512 dy =
        _mm512_permutexvar_ps(_mm512_loadu_si512(lanes + r * 16),
                              _mm512_maskz_loadu_ps(first_lanes(pooled - window), grad + window));
    const __m512 dx = _mm512_mul_ps(_mm512_mul_ps(dy, scale), _mm512_mul_ps(y, _mm512_sub_ps(one, y)));
    // Columns in no window: 0·y (NaN stays NaN).
    _mm512_mask_storeu_ps(out + x, first_lanes(width - x),
                          _mm512_mask_mov_ps(_mm512_mul_ps(zero, y), first_lanes(covered - x), dx));
    window += (r + 16) / k_w;
    r = (r + 16) % k_w;
  }
}

// (y, dy) -> dx = avg_pool_grad(dy)·y·(1 - y), the gradient at the input of the sigmoid whose output y the
// pool read, for windows that tile the input (supports() declines others, so there is no padding and
// count_include_pad does not matter): each element takes one dy. One
// loop in y's layout (plain, or blocked where the channels fill the blocks), over y where y dies here.
void avg_pool_sigmoid_grad(const Node& node, Compiler& c) {
  const Value *y_value = node.input(0), *dy_value = node.input(1);
  const Shape &x = y_value->type().shape, &pooled = dy_value->type().shape;
  memory y = c.input(y_value);
  int64_t block = channel_block(y.get_desc(), y_value);
  if (block == 0 || x[1] % block != 0) y = c.plain_input(y_value), block = 1;
  const memory dy = c.input(dy_value, channel_blocked(dy_value, block));
  memory dx = y;
  if (c.may_write_over(y_value, y, node)) {
    c.write_over(node.output(), y);
  } else {
    dx = c.output(node.output(), y.get_desc());
  }
  const int64_t rows = x[0] * x[1] / block * x[2], height = x[2], width = x[3];
  const int64_t k_h = window(node).kernel[0], k_w = window(node).kernel[1];
  const int64_t out_h = pooled[2], out_w = pooled[3];
  const float per_element = 1.0f / static_cast<float>(k_h * k_w);  // exact for areas of powers of 2
  const bool vectorised = block == 1 && k_w <= 16 && cpu_has_avx512();
  const std::vector<int32_t> lanes = vectorised ? window_lanes(k_w) : std::vector<int32_t>();
  c.add_loop(
      [=] {
        const float *y_data = data<float>(y), *dy_data = data<float>(dy);
        float* dx_data = data<float>(dx);
        parallel_for(
            rows,
            [&](int64_t row) {  // one row of one plane (of `block` channels)
              const int64_t plane = row / height, oy = row % height / k_h;
              const float* in = y_data + row * width * block;
              const float* grad = dy_data + (plane * out_h + oy) * out_w * block;
              float* out = dx_data + row * width * block;
              const int64_t covered = oy < out_h ? out_w * k_w * block : 0;  // the rest is in no window
              if (vectorised) {
                return sigmoid_pool_grad_row(in, grad, out, width, covered, out_w, k_w, lanes.data(),
                                             per_element);
              }
              for (int64_t i = 0; i < covered; grad += block) {  // one window's columns
                for (int64_t kx = 0; kx < k_w; ++kx, i += block) {
                  for (int64_t l = 0; l < block; ++l) {
                    out[i + l] = grad[l] * per_element * in[i + l] * (1 - in[i + l]);
                  }
                }
              }
              for (int64_t i = covered; i < width * block; ++i) out[i] = 0.f * in[i];  // NaN stays NaN
            },
            width * block);
      },
      {y, dy, dx});
}

}  // namespace

void add_pool_ops(OpTable& table) {
  table["avg_pool_sigmoid_grad"] = avg_pool_sigmoid_grad;
  table["max_pool"] = max_pool;
  table["max_pool_grad"] = max_pool_grad;
  table["avg_pool"] = avg_pool;
  table["avg_pool_grad"] = avg_pool_grad;
  table["global_avg_pool"] = global_avg_pool;
  table["global_avg_pool_grad"] = global_avg_pool_grad;
}

}  // namespace stratum::onednn
