// The plugin's CUDA kernels (kernels.h): grid-stride loops over elements, and one block per channel or per
// loss for the reductions, which sum in a fixed order so that every run gives the same bits.
#include <math_constants.h>

#include "backends/plugin.h"
#include "plugins/cudnn/kernels.h"

namespace stratum::cudnn::kernels {

namespace {

constexpr int kThreads = 256;

int blocks_for(int64_t n) {
  const int64_t blocks = (n + kThreads - 1) / kThreads;
  return static_cast<int>(blocks < 1 ? 1 : blocks > 8192 ? 8192 : blocks);
}

// Calls f(i) for every i in [0, n).
template <typename F>
__global__ void for_each(int64_t n, F f) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x)
    f(i);
}

template <typename F>
void launch(int64_t n, cudaStream_t stream, F f) {
  for_each<<<blocks_for(n), kThreads, 0, stream>>>(n, f);
}

// The sum of `value` over the block, in thread 0 (fixed order: a tree over shared memory).
template <typename T>
__device__ T block_sum(T value) {
  __shared__ T partial[kThreads];
  partial[threadIdx.x] = value;
  __syncthreads();
  for (int half = kThreads / 2; half > 0; half /= 2) {
    if (threadIdx.x < half) partial[threadIdx.x] += partial[threadIdx.x + half];
    __syncthreads();
  }
  return partial[0];
}

__global__ void channel_sum_kernel(const float* dy, float* db, Channels s) {
  const int64_t c = blockIdx.x, outer = s.size / (s.channels * s.inner);
  double sum = 0;
  for (int64_t j = threadIdx.x; j < outer * s.inner; j += kThreads)
    sum += dy[(j / s.inner * s.channels + c) * s.inner + j % s.inner];
  sum = block_sum(sum);
  if (threadIdx.x == 0) db[c] = static_cast<float>(sum);
}

// One row's log Σ exp (shifted by the maximum) and first argmax.
struct RowStats {
  double lse;
  int64_t argmax;
};

__device__ RowStats row_stats(const float* row, int64_t classes) {
  int64_t best = 0;
  for (int64_t k = 1; k < classes; ++k) best = row[k] > row[best] ? k : best;
  double sum = 0;
  for (int64_t k = 0; k < classes; ++k) sum += exp(double(row[k]) - row[best]);
  return {row[best] + log(sum), best};
}

__global__ void softmax_cross_entropy_kernel(const float* logits, const int32_t* labels, float* loss,
                                             int32_t* correct, int64_t rows, int64_t classes) {
  double sum = 0;
  int count = 0;
  for (int64_t r = threadIdx.x; r < rows; r += kThreads) {
    const float* row = logits + r * classes;
    const int32_t label = labels[r];
    if (label < 0 || label >= classes) {  // no class: the loss says so as NaN (the reference throws)
      sum += CUDART_NAN;
      continue;
    }
    const RowStats stats = row_stats(row, classes);
    sum += stats.lse - row[label];
    count += stats.argmax == label;
  }
  sum = block_sum(sum);
  count = block_sum(count);
  if (threadIdx.x == 0) *loss = static_cast<float>(sum / rows), *correct = count;
}

}  // namespace

void unary(Unary op, const float* x, float* y, int64_t n, cudaStream_t stream) {
  launch(n, stream, [=] __device__(int64_t i) {
    const float v = x[i];
    y[i] = op == Unary::kRelu ? fmaxf(v, 0.0f) : op == Unary::kSigmoid ? 1.0f / (1.0f + expf(-v)) : v;
  });
}

void binary(Binary op, const float* a, const float* b, float* y, int64_t n, cudaStream_t stream) {
  launch(n, stream, [=] __device__(int64_t i) {
    const float u = a[i], v = b[i];
    switch (op) {
      case Binary::kAdd:
        y[i] = u + v;
        break;
      case Binary::kAddRelu:
        y[i] = fmaxf(u + v, 0.0f);
        break;
      case Binary::kReluGrad:
        y[i] = v > 0 ? u : 0.0f;
        break;
      case Binary::kSigmoidGrad:
        y[i] = u * v * (1 - v);
        break;
    }
  });
}

void bias_add(float* y, const float* bias, const float* residual, bool relu, Channels s,
              cudaStream_t stream) {
  launch(s.size, stream, [=] __device__(int64_t i) {
    float v = y[i];
    if (bias) v += bias[i / s.inner % s.channels];
    if (residual) v += residual[i];
    y[i] = relu ? fmaxf(v, 0.0f) : v;
  });
}

void channel_sum(const float* dy, float* db, Channels shape, cudaStream_t stream) {
  channel_sum_kernel<<<static_cast<unsigned>(shape.channels), kThreads, 0, stream>>>(dy, db, shape);
}

void dropout(const float* x, const int32_t* key, int64_t seed, double p, float* y, int64_t n,
             cudaStream_t stream) {
  const float scale = static_cast<float>(1 / (1 - p));
  launch(n, stream,
         [=] __device__(int64_t i) { y[i] = stratum_dropout_keep(seed, *key, i, p) ? x[i] * scale : 0.0f; });
}

void inverse_std(const float* var, double eps, float* inv_std, int64_t channels, cudaStream_t stream) {
  launch(channels, stream,
         [=] __device__(int64_t c) { inv_std[c] = static_cast<float>(1 / sqrt(double(var[c]) + eps)); });
}

void variance_of(const float* inv_std, double eps, float* var, int64_t channels, cudaStream_t stream) {
  launch(channels, stream, [=] __device__(int64_t c) {
    const double s = inv_std[c];
    var[c] = static_cast<float>(fmax(1 / (s * s) - eps, 0.0));
  });
}

void bn_relu_mask(const float* dy, const float* x, const float* gamma, const float* beta, const float* mean,
                  const float* inv_std, float* out, Channels s, cudaStream_t stream) {
  launch(s.size, stream, [=] __device__(int64_t i) {
    const int64_t c = i / s.inner % s.channels;
    out[i] = gamma[c] * (x[i] - mean[c]) * inv_std[c] + beta[c] > 0 ? dy[i] : 0.0f;
  });
}

void fold_batch_norm(const float* w, const float* b, const float* gamma, const float* beta, const float* mean,
                     const float* var, double eps, float* w_out, float* b_out, int64_t out_channels,
                     int64_t per_channel, cudaStream_t stream) {
  launch(out_channels * per_channel, stream, [=] __device__(int64_t i) {
    const int64_t o = i / per_channel;
    const double scale = gamma[o] / sqrt(double(var[o]) + eps);
    w_out[i] = static_cast<float>(w[i] * scale);
    if (i % per_channel == 0) b_out[o] = static_cast<float>((double(b[o]) - mean[o]) * scale + beta[o]);
  });
}

void plane_mean(const float* x, float* y, int64_t planes, int64_t plane, cudaStream_t stream) {
  launch(planes, stream, [=] __device__(int64_t p) {
    double sum = 0;
    for (int64_t i = 0; i < plane; ++i) sum += x[p * plane + i];
    y[p] = static_cast<float>(sum / plane);
  });
}

void plane_mean_grad(const float* dy, float* dx, int64_t planes, int64_t plane, cudaStream_t stream) {
  launch(planes * plane, stream, [=] __device__(int64_t i) { dx[i] = dy[i / plane] / plane; });
}

void softmax_cross_entropy(const float* logits, const int32_t* labels, float* loss, int32_t* correct,
                           int64_t rows, int64_t classes, cudaStream_t stream) {
  softmax_cross_entropy_kernel<<<1, kThreads, 0, stream>>>(logits, labels, loss, correct, rows, classes);
}

void softmax_cross_entropy_grad(const float* dloss, const float* logits, const int32_t* labels,
                                float* dlogits, int64_t rows, int64_t classes, cudaStream_t stream) {
  launch(rows, stream, [=] __device__(int64_t r) {
    const float* row = logits + r * classes;
    const int32_t label = labels[r];
    const double lse = row_stats(row, classes).lse;
    const double scale = double(*dloss) / rows;
    const bool valid = label >= 0 && label < classes;
    for (int64_t k = 0; k < classes; ++k) {
      dlogits[r * classes + k] =
          valid ? static_cast<float>(scale * (exp(row[k] - lse) - (k == label))) : CUDART_NAN_F;
    }
  });
}

__device__ UpdateParams at_step(const UpdateParams& p, StepScalars step) {
  return p.at_step(*step.lr, step.scale ? *step.scale : 1.0, step.t ? *step.t : 1.0);
}

void sgd_update(UpdateParams p, StepScalars step, const float* w, const float* dw, float* w_out, int64_t n,
                cudaStream_t stream) {
  launch(n, stream, [=] __device__(int64_t i) { w_out[i] = at_step(p, step).sgd(w[i], dw[i]); });
}

void momentum_update(UpdateParams p, StepScalars step, const float* w, const float* dw, const float* v,
                     float* w_out, float* v_out, int64_t n, cudaStream_t stream) {
  launch(n, stream, [=] __device__(int64_t i) {
    float velocity = v[i];
    w_out[i] = at_step(p, step).sgd_momentum(w[i], dw[i], &velocity);
    v_out[i] = velocity;
  });
}

void adam_update(UpdateParams p, StepScalars step, const float* w, const float* dw, const float* m,
                 const float* v, float* w_out, float* m_out, float* v_out, int64_t n, cudaStream_t stream) {
  launch(n, stream, [=] __device__(int64_t i) {
    float first = m[i], second = v[i];
    w_out[i] = at_step(p, step).adam(w[i], dw[i], &first, &second);
    m_out[i] = first;
    v_out[i] = second;
  });
}

void zero(double* sum, cudaStream_t stream) {
  launch(1, stream, [=] __device__(int64_t) { *sum = 0; });
}

__global__ void add_sum_squares_kernel(const float* g, int64_t n, double* sum) {
  double partial = 0;
  for (int64_t i = threadIdx.x; i < n; i += kThreads) partial += double(g[i]) * g[i];
  partial = block_sum(partial);
  if (threadIdx.x == 0) *sum += partial;
}

void add_sum_squares(const float* g, int64_t n, double* sum, cudaStream_t stream) {
  add_sum_squares_kernel<<<1, kThreads, 0, stream>>>(g, n, sum);
}

void clip_scale(const double* sum, double max_norm, float* scale, cudaStream_t stream) {
  launch(1, stream, [=] __device__(int64_t) { *scale = stratum::clip_scale(*sum, max_norm); });
}

void fill(float* out, float value, int64_t n, cudaStream_t stream) {
  launch(n, stream, [=] __device__(int64_t i) { out[i] = value; });
}

}  // namespace stratum::cudnn::kernels
