// batch_norm and batch_norm_grad as oneDNN batch normalizations, in whatever layout x has (rank 2 runs as
// oneDNN's [N,C]); the running statistics' update, which oneDNN does not do, is a loop.
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
void update_running_stats(const Node& node, Compiler& c, const memory& mean, const memory& var) {
  const double momentum = node.attr_float("momentum");
  const int64_t channels = node.input(0)->type().shape[1];
  const double n = static_cast<double>(node.input(0)->type().num_elements() / channels);
  const memory running_mean = c.plain_input(node.input(3)), running_var = c.plain_input(node.input(4));
  const memory new_mean = c.plain_output(node.output(3)), new_var = c.plain_output(node.output(4));
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

// (x, gamma, beta, running mean, running var) -> in training y, the batch mean and biased variance, the
// new running mean and variance; in inference y from the running statistics. A relu that alone reads y is
// fused in (oneDNN's fuse_norm_relu, whose workspace is for a backward that is not used).
void batch_norm(const Node& node, Compiler& c) {
  const memory x = c.input(node.input(0));
  const bool training = node.attr_bool("training");
  const Node* relu = c.claim_sole_user(node.output(0), "relu");
  normalization_flags flags = kScaleShift;
  if (relu) flags |= normalization_flags::fuse_norm_relu;
  if (!training) flags |= normalization_flags::use_global_stats;
  const auto pd =
      forward_pd(training ? dnnl::prop_kind::forward_training : dnnl::prop_kind::forward_inference, x,
                 node.attr_float("eps"), flags, c);
  const memory mean = training ? c.output(node.output(1), pd.mean_desc()) : c.plain_input(node.input(3));
  const memory var = training ? c.output(node.output(2), pd.variance_desc()) : c.plain_input(node.input(4));
  Args args = {{DNNL_ARG_SRC, x},
               {DNNL_ARG_SCALE, c.plain_input(node.input(1))},
               {DNNL_ARG_SHIFT, c.plain_input(node.input(2))},
               {DNNL_ARG_MEAN, mean},
               {DNNL_ARG_VARIANCE, var},
               {DNNL_ARG_DST, c.output(relu ? relu->output() : node.output(0), pd.dst_desc())}};
  if (relu && training) {
    args[DNNL_ARG_WORKSPACE] = c.buffer(pd.workspace_desc());
    c.set_workspace(&node, args[DNNL_ARG_WORKSPACE]);
  }
  c.add(pd, std::move(args));
  if (training) update_running_stats(node, c, mean, var);
}

// batch_norm_grad (dy, x, gamma, saved mean, saved var) -> dx, dgamma, dbeta, from `dy`. With a
// `relu_mask` (the workspace of a forward that fused its relu) dy is the gradient of the relu's output, which
// the primitive masks itself (oneDNN's fuse_norm_relu).
void batch_norm_backward(const Node& node, Compiler& c, const Value* dy, const memory& relu_mask) {
  const memory x = c.input(node.input(1));
  const double eps = node.attr_float("eps");
  normalization_flags flags = kScaleShift;
  if (relu_mask) flags |= normalization_flags::fuse_norm_relu;
  const dnnl::batch_normalization_backward::desc desc(dnnl::prop_kind::backward, x.get_desc(), x.get_desc(),
                                                      static_cast<float>(eps), flags);
  const dnnl::batch_normalization_backward::primitive_desc pd(
      desc, c.attr(), c.engine(), forward_pd(dnnl::prop_kind::forward_training, x, eps, flags, c));
  const memory gamma = c.plain_input(node.input(2));
  // oneDNN 2.6 checks that a shift is given with use_shift, though its backward never reads it: gamma stands
  // in for the beta this op does not take.
  Args args = {{DNNL_ARG_DIFF_DST, c.input(dy, pd.diff_dst_desc())},
               {DNNL_ARG_SRC, x},
               {DNNL_ARG_SCALE, gamma},
               {DNNL_ARG_SHIFT, gamma},
               {DNNL_ARG_MEAN, c.input(node.input(3), pd.mean_desc())},
               {DNNL_ARG_VARIANCE, c.input(node.input(4), pd.variance_desc())},
               {DNNL_ARG_DIFF_SRC, c.output(node.output(0), pd.diff_src_desc())},
               {DNNL_ARG_DIFF_SCALE, c.plain_output(node.output(1))},
               {DNNL_ARG_DIFF_SHIFT, c.plain_output(node.output(2))}};
  if (relu_mask) args[DNNL_ARG_WORKSPACE] = relu_mask;
  c.add(pd, std::move(args));
}

void batch_norm_grad(const Node& node, Compiler& c) { batch_norm_backward(node, c, node.input(0), memory()); }

}  // namespace

bool fuse_into_batch_norm_grad(const Node& relu_grad, Compiler& c) {
  const Value* dz = relu_grad.output();
  if (dz->users().size() != 1 || dz->users()[0]->op_name() != "batch_norm_grad") return false;
  const Node& bn_grad = *dz->users()[0];
  const Node* forward = bn_grad.input(3)->producer();  // the saved mean's
  const Node* relu = relu_grad.input(1)->producer();   // y's
  if (forward == nullptr || relu == nullptr || relu->input(0) != forward->output(0) || !c.claimed(relu) ||
      !c.workspace(forward) || !c.claim_sole_user(dz, "batch_norm_grad")) {
    return false;
  }
  batch_norm_backward(bn_grad, c, relu_grad.input(0), c.workspace(forward));
  return true;
}

void add_norm_ops(OpTable& table) {
  table["batch_norm"] = batch_norm;
  table["batch_norm_grad"] = batch_norm_grad;
}

}  // namespace stratum::onednn
