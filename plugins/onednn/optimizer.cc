// The update ops and global-norm clipping's scale: loops over plain memory with the maths of
// backends/optimizer_math.h, the reference backend's to the bit.
#include "backends/update_params.h"
#include "plugins/onednn/ops.h"

namespace stratum::onednn {

namespace {

using dnnl::memory;

// An update node's plain inputs and outputs, and its UpdateParams less the per-step values, which
// `params()` reads from the lr, scale and step count inputs when the loop runs.
struct Update {
  Update(const Node& node, Compiler& c)
      : base(update_params(node)), steps(step_inputs(node)), n(node.output()->type().num_elements()) {
    for (const Value* v : node.inputs()) in.push_back(c.plain_input(v));
    for (const Value* v : node.outputs()) out.push_back(c.plain_output(v));
  }
  UpdateParams params() const {
    auto scalar = [this](std::optional<size_t> i) { return i ? double(*data<float>(in[*i])) : 1.0; };
    return base.at_step(scalar(steps.lr), scalar(steps.scale), scalar(steps.t));
  }
  const float* input(size_t i) const { return data<float>(in[i]); }
  float* output(size_t i) const { return data<float>(out[i]); }
  std::vector<memory> memories() const {
    std::vector<memory> all = in;
    all.insert(all.end(), out.begin(), out.end());
    return all;
  }

  UpdateParams base;
  StepInputs steps;
  int64_t n;
  std::vector<memory> in, out;
};

void sgd_update(const Node& node, Compiler& c) {
  const Update u(node, c);
  c.add_loop(
      [u] {
        const UpdateParams p = u.params();
        const float *w = u.input(0), *g = u.input(1);
        float* w_out = u.output(0);
        parallel_for(u.n, [&](int64_t i) { w_out[i] = p.sgd(w[i], g[i]); });
      },
      u.memories());
}

void momentum_update(const Node& node, Compiler& c) {
  const Update u(node, c);
  c.add_loop(
      [u] {
        const UpdateParams p = u.params();
        const float *w = u.input(0), *g = u.input(1), *v = u.input(2);
        float *w_out = u.output(0), *v_out = u.output(1);
        parallel_for(u.n, [&](int64_t i) {
          float velocity = v[i];
          w_out[i] = p.sgd_momentum(w[i], g[i], &velocity);
          v_out[i] = velocity;
        });
      },
      u.memories());
}

void adam_update(const Node& node, Compiler& c) {
  const Update u(node, c);
  c.add_loop(
      [u] {
        const UpdateParams p = u.params();
        const float *w = u.input(0), *g = u.input(1), *m = u.input(2), *v = u.input(3);
        float *w_out = u.output(0), *m_out = u.output(1), *v_out = u.output(2);
        parallel_for(u.n, [&](int64_t i) {
          float first = m[i], second = v[i];
          w_out[i] = p.adam(w[i], g[i], &first, &second);
          m_out[i] = first;
          v_out[i] = second;
        });
      },
      u.memories());
}

void global_norm_scale(const Node& node, Compiler& c) {
  std::vector<memory> grads;
  std::vector<int64_t> sizes;
  for (const Value* g : node.inputs()) {
    grads.push_back(c.plain_input(g));
    sizes.push_back(g->type().num_elements());
  }
  const memory out = c.plain_output(node.output());
  const double max_norm = node.attr_float("max_norm");
  std::vector<memory> all = grads;
  all.push_back(out);
  c.add_loop(
      [grads, sizes, out, max_norm] {
        double sum = 0;
        for (size_t k = 0; k < grads.size(); ++k) {
          const float* x = data<float>(grads[k]);
          const int64_t n = sizes[k];
#pragma omp parallel for reduction(+ : sum) schedule(static)
          for (int64_t i = 0; i < n; ++i) sum += double(x[i]) * x[i];
        }
        *data<float>(out) = clip_scale(sum, max_norm);
      },
      all);
}

}  // namespace

void add_optimizer_ops(OpTable& table) {
  table["sgd_update"] = sgd_update;
  table["momentum_update"] = momentum_update;
  table["adam_update"] = adam_update;
  table["global_norm_scale"] = global_norm_scale;
}

}  // namespace stratum::onednn
