// The update ops and global-norm clipping's scale, as the plugin's own kernels (backends/optimizer_math.h's
// maths, the reference backend's).
#include "backends/update_params.h"
#include "plugins/cudnn/ops.h"

namespace stratum::cudnn {

namespace {

// An update node's inputs and outputs, and which of them are its step scalars.
struct Update {
  Update(const Node& node, Compiler& c)
      : params(update_params(node)), steps(step_inputs(node)), n(node.output()->type().num_elements()) {
    for (const Value* v : node.inputs()) in.push_back(c.input(v));
    for (const Value* v : node.outputs()) out.push_back(c.output(v));
  }
  kernels::StepScalars step(const RunContext& r) const {
    auto scalar = [&](std::optional<size_t> i) { return i ? r.at(in[*i]) : nullptr; };
    return {r.at(in[steps.lr]), scalar(steps.scale), scalar(steps.t)};
  }
  std::vector<Ref> refs() const {
    std::vector<Ref> all = in;
    all.insert(all.end(), out.begin(), out.end());
    return all;
  }

  UpdateParams params;
  StepInputs steps;
  int64_t n;
  std::vector<Ref> in, out;
};

void sgd_update(const Node& node, Compiler& c) {
  const Update u(node, c);
  c.add(
      [u](const RunContext& r) {
        kernels::sgd_update(u.params, u.step(r), r.at(u.in[0]), r.at(u.in[1]), r.at(u.out[0]), u.n,
                            r.stream());
      },
      u.refs());
}

void momentum_update(const Node& node, Compiler& c) {
  const Update u(node, c);
  c.add(
      [u](const RunContext& r) {
        kernels::momentum_update(u.params, u.step(r), r.at(u.in[0]), r.at(u.in[1]), r.at(u.in[2]),
                                 r.at(u.out[0]), r.at(u.out[1]), u.n, r.stream());
      },
      u.refs());
}

void adam_update(const Node& node, Compiler& c) {
  const Update u(node, c);
  c.add(
      [u](const RunContext& r) {
        kernels::adam_update(u.params, u.step(r), r.at(u.in[0]), r.at(u.in[1]), r.at(u.in[2]), r.at(u.in[3]),
                             r.at(u.out[0]), r.at(u.out[1]), r.at(u.out[2]), u.n, r.stream());
      },
      u.refs());
}

void global_norm_scale(const Node& node, Compiler& c) {
  std::vector<Ref> grads;
  std::vector<int64_t> sizes;
  for (const Value* g : node.inputs()) {
    grads.push_back(c.input(g));
    sizes.push_back(g->type().num_elements());
  }
  const Ref sum = c.buffer(sizeof(double)), scale = c.output(node.output());
  const double max_norm = node.attr_float("max_norm");
  std::vector<Ref> refs = grads;
  refs.insert(refs.end(), {sum, scale});
  c.add(
      [=](const RunContext& r) {
        double* total = r.at<double>(sum);
        kernels::zero(total, r.stream());
        for (size_t i = 0; i < grads.size(); ++i)
          kernels::add_sum_squares(r.at(grads[i]), sizes[i], total, r.stream());
        kernels::clip_scale(total, max_norm, r.at(scale), r.stream());
      },
      refs);
}

}  // namespace

void add_optimizer_ops(OpTable& table) {
  table["sgd_update"] = sgd_update;
  table["momentum_update"] = momentum_update;
  table["adam_update"] = adam_update;
  table["global_norm_scale"] = global_norm_scale;
}

}  // namespace stratum::cudnn
