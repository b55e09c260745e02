// The update ops and global-norm clipping's scale, as the plugin's own kernels (backends/optimizer_math.h's
// maths, the reference backend's).
#include <optional>

#include "backends/update_params.h"
#include "plugins/cudnn/ops.h"

namespace stratum::cudnn {

namespace {

// An update node's inputs and outputs, and where its step scalars are: lr at input `lr`, then an optional
// scale; Adam's step count at `t` (none: -1).
struct Update {
  Update(const Node& node, Compiler& c, size_t lr_index, int t_index = -1)
      : params(update_params(node)), n(node.output()->type().num_elements()) {
    for (const Value* v : node.inputs()) in.push_back(c.input(v));
    for (const Value* v : node.outputs()) out.push_back(c.output(v));
    lr = in[lr_index];
    scale = in.size() > lr_index + 1 ? std::optional<Ref>(in[lr_index + 1]) : std::nullopt;
    t = t_index < 0 ? std::nullopt : std::optional<Ref>(in[t_index]);
  }
  kernels::StepScalars step(const RunContext& r) const {
    return {r.at(lr), scale ? r.at(*scale) : nullptr, t ? r.at(*t) : nullptr};
  }
  std::vector<Ref> refs() const {
    std::vector<Ref> all = in;
    all.insert(all.end(), out.begin(), out.end());
    return all;
  }

  UpdateParams params;
  int64_t n;
  std::vector<Ref> in, out;
  Ref lr;
  std::optional<Ref> scale, t;
};

void sgd_update(const Node& node, Compiler& c) {
  const Update u(node, c, 2);
  c.add(
      [u](const RunContext& r) {
        kernels::sgd_update(u.params, u.step(r), r.at(u.in[0]), r.at(u.in[1]), r.at(u.out[0]), u.n,
                            r.stream());
      },
      u.refs());
}

void momentum_update(const Node& node, Compiler& c) {
  const Update u(node, c, 3);
  c.add(
      [u](const RunContext& r) {
        kernels::momentum_update(u.params, u.step(r), r.at(u.in[0]), r.at(u.in[1]), r.at(u.in[2]),
                                 r.at(u.out[0]), r.at(u.out[1]), u.n, r.stream());
      },
      u.refs());
}

void adam_update(const Node& node, Compiler& c) {
  const Update u(node, c, 5, 4);
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
