// The optimizers' per-element maths, written once for every kernel (the reference backend, the oneDNN
// plugin's loops, the cuDNN plugin's CUDA kernels), in double so that every backend computes the same bits.
// PyTorch's conventions: L2 weight decay adds wd·w to the gradient; decoupled weight decay (SGDW, AdamW)
// subtracts lr·wd·w from the weight instead; momentum keeps v' = μ·v + g and steps by v' (Nesterov:
// g + μ·v'); Adam steps by m̂ / (√v̂ + eps) with m̂, v̂ the bias-corrected moments of step t.
#pragma once

#include <cmath>

#ifdef __CUDACC__
#define STRATUM_HOST_DEVICE __host__ __device__
#else
#define STRATUM_HOST_DEVICE
#endif

namespace stratum {

// One update's hyperparameters: the op's attributes, and per step the learning rate, the gradients' scale
// (global-norm clipping, 1 without) and Adam's step count t (1 on the first step).
struct UpdateParams {
  double weight_decay = 0;
  bool decoupled = false;
  double momentum = 0;
  bool nesterov = false;
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  double lr = 0, scale = 1;
  double correction1 = 1, correction2 = 1;  // Adam's 1 - beta1^t, 1 - beta2^t

  STRATUM_HOST_DEVICE UpdateParams at_step(double step_lr, double grad_scale, double t) const {
    UpdateParams p = *this;
    p.lr = step_lr;
    p.scale = grad_scale;
    p.correction1 = 1 - pow(beta1, t);
    p.correction2 = 1 - pow(beta2, t);
    return p;
  }
  // The gradient the step follows: scaled, with L2 weight decay unless decoupled.
  STRATUM_HOST_DEVICE double gradient(float w, float g) const {
    return scale * g + (decoupled ? 0.0 : weight_decay * w);
  }
  // w after a step of `direction`, with decoupled weight decay.
  STRATUM_HOST_DEVICE float stepped(float w, double direction) const {
    return static_cast<float>(w - lr * direction - (decoupled ? lr * weight_decay * w : 0.0));
  }

  STRATUM_HOST_DEVICE float sgd(float w, float g) const { return stepped(w, gradient(w, g)); }

  // (w, g, v) -> w' (returned), v' (in *v).
  STRATUM_HOST_DEVICE float sgd_momentum(float w, float g, float* v) const {
    const double grad = gradient(w, g), velocity = momentum * *v + grad;
    *v = static_cast<float>(velocity);
    return stepped(w, nesterov ? grad + momentum * velocity : velocity);
  }

  // (w, g, m, v) -> w' (returned), m' and v' (in *m, *v).
  STRATUM_HOST_DEVICE float adam(float w, float g, float* m, float* v) const {
    const double grad = gradient(w, g);
    const double first = beta1 * *m + (1 - beta1) * grad, second = beta2 * *v + (1 - beta2) * grad * grad;
    *m = static_cast<float>(first);
    *v = static_cast<float>(second);
    return stepped(w, first / correction1 / (sqrt(second / correction2) + eps));
  }
};

// Global-norm clipping's scale of every gradient: min(1, max_norm / (‖g‖ + 1e-6)) for the sum of squares
// of all of them.
STRATUM_HOST_DEVICE inline float clip_scale(double sum_squares, double max_norm) {
  const double scale = max_norm / (sqrt(sum_squares) + 1e-6);
  return static_cast<float>(scale < 1 ? scale : 1);
}

}  // namespace stratum
