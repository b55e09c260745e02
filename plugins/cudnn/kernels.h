// The plugin's own CUDA kernels (kernels.cu), for what cuDNN and cuBLAS do not do: elementwise ops, the
// loss, the optimizers' updates and small reductions. Each launches on `stream` and returns at once;
// pointers are device memory, tensors dense row-major, f32 unless named otherwise.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "backends/optimizer_math.h"

namespace stratum::cudnn::kernels {

// A tensor seen per channel: element i is in channel (i / inner) % channels.
struct Channels {
  int64_t size, channels, inner;
};

enum class Unary { kRelu, kSigmoid, kCopy };
enum class Binary { kAdd, kAddRelu, kReluGrad, kSigmoidGrad };

void unary(Unary op, const float* x, float* y, int64_t n, cudaStream_t stream);
void binary(Binary op, const float* a, const float* b, float* y, int64_t n, cudaStream_t stream);

// y = y + bias[channel] (+ residual) (then max(·, 0) when relu); bias and residual may be null.
void bias_add(float* y, const float* bias, const float* residual, bool relu, Channels shape,
              cudaStream_t stream);
// db[c] = the sum of dy over channel c.
void channel_sum(const float* dy, float* db, Channels shape, cudaStream_t stream);

// y = x·keep/(1-p) with stratum_dropout_keep's mask for (seed, *key, p).
void dropout(const float* x, const int32_t* key, int64_t seed, double p, float* y, int64_t n,
             cudaStream_t stream);

// inv_std[c] = 1/sqrt(var[c] + eps), and back: var[c] = 1/inv_std[c]² - eps.
void inverse_std(const float* var, double eps, float* inv_std, int64_t channels, cudaStream_t stream);
void variance_of(const float* inv_std, double eps, float* var, int64_t channels, cudaStream_t stream);
// dy·[gamma·(x-mean)·inv_std + beta > 0]: the gradient through a relu that followed a batch norm.
void bn_relu_mask(const float* dy, const float* x, const float* gamma, const float* beta, const float* mean,
                  const float* inv_std, float* out, Channels shape, cudaStream_t stream);
// w' = w·gamma/sqrt(var+eps) per output channel (w [O, rest]); b' = (b-mean)·gamma/sqrt(var+eps) + beta.
void fold_batch_norm(const float* w, const float* b, const float* gamma, const float* beta, const float* mean,
                     const float* var, double eps, float* w_out, float* b_out, int64_t out_channels,
                     int64_t per_channel, cudaStream_t stream);

// y[p] = mean of plane p (planes of `plane` elements); dx = dy[p]/plane over the plane.
void plane_mean(const float* x, float* y, int64_t planes, int64_t plane, cudaStream_t stream);
void plane_mean_grad(const float* dy, float* dx, int64_t planes, int64_t plane, cudaStream_t stream);

// (logits [rows, classes], labels) -> loss (mean cross-entropy), correct (rows whose first argmax is the
// label); the gradient: dlogits = *dloss·(softmax - onehot)/rows.
void softmax_cross_entropy(const float* logits, const int32_t* labels, float* loss, int32_t* correct,
                           int64_t rows, int64_t classes, cudaStream_t stream);
void softmax_cross_entropy_grad(const float* dloss, const float* logits, const int32_t* labels,
                                float* dlogits, int64_t rows, int64_t classes, cudaStream_t stream);

// out = value.
void fill(float* out, float value, int64_t n, cudaStream_t stream);

// The update ops, with backends/optimizer_math.h's maths: `p` holds the op's attributes; the learning rate,
// the gradients' scale (null: 1) and Adam's step count (null: 1) are device scalars read as the kernel runs.
struct StepScalars {
  const float *lr, *scale, *t;
};
void sgd_update(UpdateParams p, StepScalars step, const float* w, const float* dw, float* w_out, int64_t n,
                cudaStream_t stream);
void momentum_update(UpdateParams p, StepScalars step, const float* w, const float* dw, const float* v,
                     float* w_out, float* v_out, int64_t n, cudaStream_t stream);
void adam_update(UpdateParams p, StepScalars step, const float* w, const float* dw, const float* m,
                 const float* v, float* w_out, float* m_out, float* v_out, int64_t n, cudaStream_t stream);
// Global-norm clipping: *sum = 0; *sum += Σ g² for each gradient in turn (one block, a fixed order); then
// *scale = clip_scale(*sum, max_norm).
void zero(double* sum, cudaStream_t stream);
void add_sum_squares(const float* g, int64_t n, double* sum, cudaStream_t stream);
void clip_scale(const double* sum, double max_norm, float* scale, cudaStream_t stream);

}  // namespace stratum::cudnn::kernels
