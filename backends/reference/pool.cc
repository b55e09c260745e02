// max_pool, avg_pool, global_avg_pool and their backward ops. Padded positions never take part in a window
// (so padding never wins a max); avg_pool still divides by the whole kernel area, as PyTorch's default does,
// unless count_include_pad is false.
#include "backends/reference/common.h"

namespace stratum::reference {

namespace {

struct PoolGeometry {
  int64_t planes, in_h, in_w, out_h, out_w;  // planes = N·C
  int64_t k_h, k_w, stride_h, stride_w, pad_h, pad_w;
  int64_t area() const { return k_h * k_w; }
};

PoolGeometry pool_geometry(const Node& node, const Shape& x, const Shape& y) {
  const Ints &k = node.attr_ints("kernel"), &s = node.attr_ints("stride"), &p = node.attr_ints("padding");
  return {x[0] * x[1], x[2], x[3], y[2], y[3], k[0], k[1], s[0], s[1], p[0], p[1]};
}

// The flat input indices of output element y_index's window, in row-major window order, padding left out.
std::vector<int64_t> window(const PoolGeometry& g, int64_t y_index) {
  const int64_t plane = y_index / (g.out_h * g.out_w);
  const int64_t oy = y_index / g.out_w % g.out_h, ox = y_index % g.out_w;
  std::vector<int64_t> indices;
  for (int64_t ky = 0; ky < g.k_h; ++ky) {
    const int64_t iy = oy * g.stride_h - g.pad_h + ky;
    if (iy < 0 || iy >= g.in_h) continue;
    for (int64_t kx = 0; kx < g.k_w; ++kx) {
      const int64_t ix = ox * g.stride_w - g.pad_w + kx;
      if (ix >= 0 && ix < g.in_w) indices.push_back((plane * g.in_h + iy) * g.in_w + ix);
    }
  }
  return indices;
}

// The input index of the window's first maximum.
int64_t first_max(const float* x, const std::vector<int64_t>& indices) {
  int64_t best = indices.at(0);
  for (int64_t i : indices) {
    if (x[i] > x[best]) best = i;
  }
  return best;
}

void max_pool(const Node& node, const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) {
  const PoolGeometry g = pool_geometry(node, in[0]->shape(), out[0]->shape());
  const float* x = in[0]->f32();
  for (int64_t i = 0; i < out[0]->size(); ++i) out[0]->f32()[i] = x[first_max(x, window(g, i))];
}

// (dy, x) -> dx
void max_pool_grad(const Node& node, const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) {
  const PoolGeometry g = pool_geometry(node, in[1]->shape(), in[0]->shape());
  const float *dy = in[0]->f32(), *x = in[1]->f32();
  std::vector<double> dx(out[0]->size(), 0.0);
  for (int64_t i = 0; i < in[0]->size(); ++i) dx[first_max(x, window(g, i))] += dy[i];
  store(dx, *out[0]);
}

// What avg_pool divides a window's sum by: the kernel area, or the window's elements that are not padding.
double divisor(const Node& node, const PoolGeometry& g, const std::vector<int64_t>& indices) {
  return node.attr_bool("count_include_pad") ? double(g.area()) : double(indices.size());
}

void avg_pool(const Node& node, const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) {
  const PoolGeometry g = pool_geometry(node, in[0]->shape(), out[0]->shape());
  const float* x = in[0]->f32();
  for (int64_t i = 0; i < out[0]->size(); ++i) {
    const std::vector<int64_t> indices = window(g, i);
    double sum = 0;
    for (int64_t j : indices) sum += x[j];
    out[0]->f32()[i] = static_cast<float>(sum / divisor(node, g, indices));
  }
}

// dy -> dx
void avg_pool_grad(const Node& node, const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) {
  const PoolGeometry g = pool_geometry(node, out[0]->shape(), in[0]->shape());
  const float* dy = in[0]->f32();
  std::vector<double> dx(out[0]->size(), 0.0);
  for (int64_t i = 0; i < in[0]->size(); ++i) {
    const std::vector<int64_t> indices = window(g, i);
    for (int64_t j : indices) dx[j] += dy[i] / divisor(node, g, indices);
  }
  store(dx, *out[0]);
}

// [N,C,H,W] -> [N,C,1,1]: each plane's mean.
void global_avg_pool(const Node&, const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) {
  const int64_t plane_size = in[0]->size() / std::max<int64_t>(out[0]->size(), 1);
  const float* x = in[0]->f32();
  for (int64_t p = 0; p < out[0]->size(); ++p) {
    double sum = 0;
    for (int64_t i = 0; i < plane_size; ++i) sum += x[p * plane_size + i];
    out[0]->f32()[p] = static_cast<float>(sum / plane_size);
  }
}

void global_avg_pool_grad(const Node&, const std::vector<const Tensor*>& in,
                          const std::vector<Tensor*>& out) {
  const int64_t plane_size = out[0]->size() / std::max<int64_t>(in[0]->size(), 1);
  for (int64_t i = 0; i < out[0]->size(); ++i) {
    out[0]->f32()[i] = static_cast<float>(double(in[0]->f32()[i / plane_size]) / plane_size);
  }
}

}  // namespace

void add_pool_kernels(KernelTable& table) {
  table["max_pool"] = max_pool;
  table["max_pool_grad"] = max_pool_grad;
  table["avg_pool"] = avg_pool;
  table["avg_pool_grad"] = avg_pool_grad;
  table["global_avg_pool"] = global_avg_pool;
  table["global_avg_pool_grad"] = global_avg_pool_grad;
}

}  // namespace stratum::reference
