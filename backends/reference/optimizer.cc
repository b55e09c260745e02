// The update ops and global-norm clipping's scale, with the maths of backends/optimizer_math.h.
#include "backends/reference/common.h"
#include "backends/update_params.h"

namespace stratum::reference {

namespace {

// The node's UpdateParams for this step.
UpdateParams step_params(const Node& node, const std::vector<const Tensor*>& in) {
  const StepInputs s = step_inputs(node);
  auto scalar = [&in](std::optional<size_t> i) { return i ? in[*i]->f32()[0] : 1.0f; };
  return update_params(node).at_step(scalar(s.lr), scalar(s.scale), scalar(s.t));
}

// (w, dw, lr[, scale]) -> w'
void sgd_update(const Node& node, const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) {
  const UpdateParams p = step_params(node, in);
  for (int64_t i = 0; i < out[0]->size(); ++i) out[0]->f32()[i] = p.sgd(in[0]->f32()[i], in[1]->f32()[i]);
}

// (w, dw, v, lr[, scale]) -> w', v'
void momentum_update(const Node& node, const std::vector<const Tensor*>& in,
                     const std::vector<Tensor*>& out) {
  const UpdateParams p = step_params(node, in);
  for (int64_t i = 0; i < out[0]->size(); ++i) {
    float v = in[2]->f32()[i];
    out[0]->f32()[i] = p.sgd_momentum(in[0]->f32()[i], in[1]->f32()[i], &v);
    out[1]->f32()[i] = v;
  }
}

// (w, dw, m, v, t, lr[, scale]) -> w', m', v'
void adam_update(const Node& node, const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) {
  const UpdateParams p = step_params(node, in);
  for (int64_t i = 0; i < out[0]->size(); ++i) {
    float m = in[2]->f32()[i], v = in[3]->f32()[i];
    out[0]->f32()[i] = p.adam(in[0]->f32()[i], in[1]->f32()[i], &m, &v);
    out[1]->f32()[i] = m;
    out[2]->f32()[i] = v;
  }
}

void global_norm_scale(const Node& node, const std::vector<const Tensor*>& in,
                       const std::vector<Tensor*>& out) {
  double sum = 0;
  for (const Tensor* g : in) {
    for (int64_t i = 0; i < g->size(); ++i) sum += double(g->f32()[i]) * g->f32()[i];
  }
  out[0]->f32()[0] = clip_scale(sum, node.attr_float("max_norm"));
}

}  // namespace

void add_optimizer_kernels(KernelTable& table) {
  table["sgd_update"] = sgd_update;
  table["momentum_update"] = momentum_update;
  table["adam_update"] = adam_update;
  table["global_norm_scale"] = global_norm_scale;
}

}  // namespace stratum::reference
