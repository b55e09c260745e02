// batch_norm and batch_norm_grad through cuDNN's spatial batch normalization (per channel, over N, H and W;
// rank 2 runs as [N,C,1,1]). cuDNN saves the inverse standard deviation where Stratum's ops carry the
// biased variance, and updates the running statistics in place where Stratum's op writes new ones: small
// kernels and a copy bridge both. A fused relu runs in place after the forward; the backward recomputes
// its mask from x (kernels::bn_relu_mask).
//
// The batch-norm calls are deprecated in cuDNN 9 in favour of the graph API; they are used for the same
// reason as the legacy convolution calls (conv.cc).
#include "plugins/cudnn/ops.h"

namespace stratum::cudnn {

namespace {

const float kOne = 1.0f, kZero = 0.0f;
constexpr cudnnBatchNormMode_t kMode = CUDNN_BATCHNORM_SPATIAL;

struct BnDescs {
  Descriptor<cudnnTensorDescriptor_t> x, channel;
  int64_t channels;
  size_t channel_bytes;
};

BnDescs descs_of(const Shape& x) {
  return {tensor_desc(x), tensor_desc({x[1]}), x[1], size_t(x[1]) * sizeof(float)};
}

void relu_in_place(Compiler& c, Ref y, int64_t n) {
  c.add([=](const RunContext& r) { kernels::unary(kernels::Unary::kRelu, r.at(y), r.at(y), n, r.stream()); },
        {y});
}

// (x, gamma, beta, running mean, running var) -> y from the running statistics.
void batch_norm_inference(Compiler& c, const BatchNorm& bn, const std::vector<Ref>& in, Ref y) {
  const BnDescs d = descs_of(bn.x);
  const double eps = bn.eps;
  c.add(
      [=](const RunContext& r) {
        check(cudnnBatchNormalizationForwardInference(
                  r.device.cudnn, kMode, &kOne, &kZero, d.x.get(), r.at(in[0]), d.x.get(), r.at(y),
                  d.channel.get(), r.at(in[1]), r.at(in[2]), r.at(in[3]), r.at(in[4]), eps),
              "cudnnBatchNormalizationForwardInference");
      },
      {in[0], in[1], in[2], in[3], in[4], y});
  if (bn.relu) relu_in_place(c, y, num_elements(bn.x));
}

// (x, gamma, beta, running mean, running var){eps, momentum, training, relu}
void batch_norm(const Node& node, Compiler& c) {
  const BatchNorm bn{node.input(0)->type().shape, node.attr_float("eps"), node.attr_float("momentum"),
                     flag(node, "relu")};
  std::vector<Ref> in;
  for (size_t i = 0; i < 5; ++i) in.push_back(c.input(node.input(i)));
  const Ref y = c.output(node.output(0));
  if (!node.attr_bool("training")) return batch_norm_inference(c, bn, in, y);
  std::vector<Ref> out = {y};
  for (size_t i = 1; i < 5; ++i) out.push_back(c.output(node.output(i)));
  batch_norm_training(c, bn, in, out);
}

// (dy, x, gamma, saved mean, saved var[, beta]){eps, relu} -> dx, dgamma, dbeta
void batch_norm_grad(const Node& node, Compiler& c) {
  const bool relu = flag(node, "relu");
  const BatchNorm bn{node.input(1)->type().shape, node.attr_float("eps"), 0.0, relu};
  std::vector<Ref> in;
  for (size_t i : {0, 1, 2, 5, 3, 4}) in.push_back(i < node.inputs().size() ? c.input(node.input(i)) : Ref{});
  std::vector<Ref> out;
  for (size_t i = 0; i < 3; ++i) out.push_back(c.output(node.output(i)));
  batch_norm_backward(c, bn, in, out);
}

}  // namespace

void batch_norm_training(Compiler& c, const BatchNorm& bn, const std::vector<Ref>& in,
                         const std::vector<Ref>& out) {
  const BnDescs d = descs_of(bn.x);
  const Ref inv_std = c.buffer(d.channel_bytes);
  c.copy(in[3], out[3], d.channel_bytes);  // cuDNN updates the running statistics in place
  c.copy(in[4], out[4], d.channel_bytes);
  const double eps = bn.eps, momentum = bn.momentum;
  c.add(
      [=](const RunContext& r) {
        check(cudnnBatchNormalizationForwardTraining(r.device.cudnn, kMode, &kOne, &kZero, d.x.get(),
                                                     r.at(in[0]), d.x.get(), r.at(out[0]), d.channel.get(),
                                                     r.at(in[1]), r.at(in[2]), momentum, r.at(out[3]),
                                                     r.at(out[4]), eps, r.at(out[1]), r.at(inv_std)),
              "cudnnBatchNormalizationForwardTraining");
        kernels::variance_of(r.at(inv_std), eps, r.at(out[2]), d.channels, r.stream());
      },
      {in[0], in[1], in[2], out[0], out[1], out[2], out[3], out[4], inv_std});
  if (bn.relu) relu_in_place(c, out[0], num_elements(bn.x));
}

void batch_norm_backward(Compiler& c, const BatchNorm& bn, const std::vector<Ref>& in,
                         const std::vector<Ref>& out) {
  const BnDescs d = descs_of(bn.x);
  const Ref inv_std = c.buffer(d.channel_bytes);
  const Ref dy = bn.relu ? c.buffer(num_elements(bn.x) * sizeof(float)) : in[0];
  const kernels::Channels channels = channels_of(bn.x);
  const double eps = bn.eps;
  const bool relu = bn.relu;
  c.add(
      [=](const RunContext& r) {
        kernels::inverse_std(r.at(in[5]), eps, r.at(inv_std), d.channels, r.stream());
        if (relu) {
          kernels::bn_relu_mask(r.at(in[0]), r.at(in[1]), r.at(in[2]), r.at(in[3]), r.at(in[4]),
                                r.at(inv_std), r.at(dy), channels, r.stream());
        }
        check(cudnnBatchNormalizationBackward(r.device.cudnn, kMode, &kOne, &kZero, &kOne, &kZero, d.x.get(),
                                              r.at(in[1]), d.x.get(), r.at(dy), d.x.get(), r.at(out[0]),
                                              d.channel.get(), r.at(in[2]), r.at(out[1]), r.at(out[2]), eps,
                                              r.at(in[4]), r.at(inv_std)),
              "cudnnBatchNormalizationBackward");
      },
      {in[0], in[1], in[2], in[3], in[4], in[5], inv_std, dy, out[0], out[1], out[2]});
}

void add_norm_ops(OpTable& table) {
  table["batch_norm"] = batch_norm;
  table["batch_norm_grad"] = batch_norm_grad;
}

}  // namespace stratum::cudnn
