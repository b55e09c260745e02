// batch_norm and batch_norm_grad as oneDNN batch normalizations, in whatever layout x has (rank 2 runs as
// oneDNN's [N,C]), but for a plain x in training (plain_norm.cc); the running statistics' update, which
// oneDNN does not do, is a loop.
#include "plugins/onednn/ops.h"

namespace stratum::onednn {

namespace {

using dnnl::memory;
using dnnl::normalization_flags;

const normalization_flags kScaleShift = normalization_flags::use_scale | normalization_flags::use_shift;

dnnl::batch_normalization_forward::primitive_desc forward_pd(dnnl::prop_kind prop, const memory& x,
                                                             double eps, normalization_flags flags,
                                                             Compiler& c) {
  const dnnl::batch_normalization_forward::desc desc(prop, x.get_desc(), static_cast<float>(eps), flags);
  return {desc, c.attr(), c.engine()};
}

// new running mean = (1 - momentum)·running mean + momentum·mean, and likewise the variance, made unbiased
// (·n/(n-1)) as PyTorch does.
void update_running_stats(const Node& node, Compiler& c, const NormValues& v, const memory& mean,
                          const memory& var) {
  const double momentum = node.attr_float("momentum");
  const int64_t channels = v.x->type().shape[1];
  const double n = static_cast<double>(v.x->type().num_elements() / channels);
  const memory running_mean = c.plain_input(v.running_mean), running_var = c.plain_input(v.running_var);
  const memory new_mean = c.plain_output(v.new_running_mean), new_var = c.plain_output(v.new_running_var);
  c.add_loop(
      [=] {
        const float *batch_mean = data<float>(mean), *batch_var = data<float>(var);
        const float *old_mean = data<float>(running_mean), *old_var = data<float>(running_var);
        float *mean_out = data<float>(new_mean), *var_out = data<float>(new_var);
        for (int64_t ch = 0; ch < channels; ++ch) {
          mean_out[ch] = static_cast<float>((1 - momentum) * old_mean[ch] + momentum * batch_mean[ch]);
          var_out[ch] =
              static_cast<float>((1 - momentum) * old_var[ch] + momentum * batch_var[ch] * n / (n - 1));
        }
      },
      {mean, var, running_mean, running_var, new_mean, new_var});
}

// y = gamma·(x - mean)/sqrt(var + eps) + beta, then relu (oneDNN's fuse_norm_relu). In training the batch's
// statistics are computed and kept, with the relu's mask as a workspace for the backward; in inference
// they are given (v.mean, v.var).
void normalize(const Node& node, Compiler& c, const NormValues& v, bool relu, bool training) {
  const memory x = c.input(v.x);
  if (training && plain_norm_runs(x, v.x)) {
    plain_norm_forward(node, c, v, relu);
    return update_running_stats(node, c, v, c.input(v.mean), c.input(v.var));
  }
  normalization_flags flags = kScaleShift;
  if (relu) flags |= normalization_flags::fuse_norm_relu;
  if (!training) flags |= normalization_flags::use_global_stats;
  const auto pd =
      forward_pd(training ? dnnl::prop_kind::forward_training : dnnl::prop_kind::forward_inference, x,
                 node.attr_float("eps"), flags, c);
  const memory mean = training ? c.output(v.mean, pd.mean_desc()) : c.plain_input(v.mean);
  const memory var = training ? c.output(v.var, pd.variance_desc()) : c.plain_input(v.var);
  Args args = {{DNNL_ARG_SRC, x},
               {DNNL_ARG_SCALE, c.plain_input(v.gamma)},
               {DNNL_ARG_SHIFT, c.plain_input(v.beta)},
               {DNNL_ARG_MEAN, mean},
               {DNNL_ARG_VARIANCE, var},
               {DNNL_ARG_DST, c.output(v.y, pd.dst_desc())}};
  if (relu && training) {
    args[DNNL_ARG_WORKSPACE] = c.buffer(pd.workspace_desc());
    c.set_workspace(v.mean->producer(), args[DNNL_ARG_WORKSPACE]);
  }
  c.add(pd, std::move(args));
  if (training) update_running_stats(node, c, v, mean, var);
}

// (x, gamma, beta, running mean, running var) -> in training y, the batch mean and biased variance, the
// new running mean and variance; in inference y from the running statistics. Then relu.
void batch_norm(const Node& node, Compiler& c) {
  const bool training = node.attr_bool("training");
  const Node& n = node;
  const NormValues v = training ? NormValues{n.input(0),  n.input(1),  n.input(2),  n.input(3),  n.input(4),
                                             n.output(0), n.output(1), n.output(2), n.output(3), n.output(4)}
                                : NormValues{n.input(0),  n.input(1), n.input(2), n.input(3), n.input(4),
                                             n.output(0), n.input(3), n.input(4), nullptr,    nullptr};
  normalize(node, c, v, node.attr_bool("relu"), training);
}

// The relu's mask for a batch_norm_grad whose statistics `mean` come from a training batch_norm that fused
// its relu here: that forward's workspace. Else one made by normalising x again with the given statistics.
memory relu_mask(const Node& node, Compiler& c, const memory& x, const Value* gamma, const Value* beta,
                 const Value* mean, const Value* var) {
  if (const memory workspace = c.workspace(mean->producer())) return workspace;
  const auto pd = forward_pd(
      dnnl::prop_kind::forward_training, x, node.attr_float("eps"),
      kScaleShift | normalization_flags::fuse_norm_relu | normalization_flags::use_global_stats, c);
  const memory workspace = c.buffer(pd.workspace_desc());
  c.add(pd, {{DNNL_ARG_SRC, x},
             {DNNL_ARG_SCALE, c.plain_input(gamma)},
             {DNNL_ARG_SHIFT, c.plain_input(beta)},
             {DNNL_ARG_MEAN, c.input(mean, pd.mean_desc())},
             {DNNL_ARG_VARIANCE, c.input(var, pd.variance_desc())},
             {DNNL_ARG_DST, c.buffer(pd.dst_desc())},
             {DNNL_ARG_WORKSPACE, workspace}});
  return workspace;
}

// (dy, x, gamma, saved mean, saved var[, beta]) -> dx, dgamma, dbeta
void batch_norm_grad(const Node& node, Compiler& c) {
  batch_norm_backward(node, c, c.input(node.input(0)), node.input(1), node.input(2),
                      node.attr_bool("relu") ? node.input(5) : nullptr, node.input(3), node.input(4),
                      node.output(0), node.output(1), node.output(2));
}

}  // namespace

void batch_norm_training(const Node& node, Compiler& c, const NormValues& v, bool relu) {
  normalize(node, c, v, relu, /*training=*/true);
}

memory batch_norm_backward(const Node& node, Compiler& c, const memory& dy, const Value* x_value,
                           const Value* gamma, const Value* beta, const Value* mean, const Value* var,
                           const Value* dx, const Value* dgamma, const Value* dbeta) {
  const memory x = c.input(x_value);
  if (plain_norm_runs(x, x_value)) {
    return plain_norm_backward(node, c, dy, x_value, gamma, beta, mean, var, dx, dgamma, dbeta);
  }
  const double eps = node.attr_float("eps");
  normalization_flags flags = kScaleShift;
  if (beta) flags |= normalization_flags::fuse_norm_relu;
  const dnnl::batch_normalization_backward::desc desc(dnnl::prop_kind::backward, x.get_desc(), x.get_desc(),
                                                      static_cast<float>(eps), flags);
  const dnnl::batch_normalization_backward::primitive_desc pd(
      desc, c.attr(), c.engine(), forward_pd(dnnl::prop_kind::forward_training, x, eps, flags, c));
  const memory gamma_memory = c.plain_input(gamma);
  const memory dx_memory = dx ? c.output(dx, pd.diff_src_desc()) : c.buffer(pd.diff_src_desc());
  // oneDNN 2.6 checks that a shift is given with use_shift, though its backward never reads it: gamma stands
  // in for it.
  Args args = {{DNNL_ARG_DIFF_DST, c.convert(dy, pd.diff_dst_desc())},
               {DNNL_ARG_SRC, x},
               {DNNL_ARG_SCALE, gamma_memory},
               {DNNL_ARG_SHIFT, gamma_memory},
               {DNNL_ARG_MEAN, c.input(mean, pd.mean_desc())},
               {DNNL_ARG_VARIANCE, c.input(var, pd.variance_desc())},
               {DNNL_ARG_DIFF_SRC, dx_memory},
               {DNNL_ARG_DIFF_SCALE, c.plain_output(dgamma)},
               {DNNL_ARG_DIFF_SHIFT, c.plain_output(dbeta)}};
  if (beta) args[DNNL_ARG_WORKSPACE] = relu_mask(node, c, x, gamma, beta, mean, var);
  c.add(pd, std::move(args));
  return dx_memory;
}

void add_norm_ops(OpTable& table) {
  table["batch_norm"] = batch_norm;
  table["batch_norm_grad"] = batch_norm_grad;
}

}  // namespace stratum::onednn
