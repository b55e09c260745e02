// conv2d and its gradients through cuDNN, each with the algorithm cuDNN's heuristics rank first for its
// shape, chosen once per shape in the process and given its workspace from the arena; bias_grad, and the
// fused ops conv_bn, conv_bn_grad and fold_batch_norm.
//
// What fuses: conv + bias + relu, and conv + bias + residual + relu, are one
// cudnnConvolutionBiasActivationForward. Without a relu that call needs one particular algorithm (implicit
// precomputed GEMM), so there the bias (and residual) are one small kernel after the convolution. conv_bn
// runs unfused, as a convolution and a batch norm: cuDNN 9's fused convolution/batch-norm graphs are for
// fp16 and bf16 NHWC tensors, and Stratum trains in f32.
//
// The legacy convolution API, deprecated in cuDNN 9 in favour of the graph API, is used for its fixed,
// documented semantics, which could not be checked here against the graph API on a device.
#include <fmt/format.h>

#include "ir/error.h"
#include "plugins/cudnn/ops.h"

namespace stratum::cudnn {

namespace {

const float kOne = 1.0f, kZero = 0.0f;

// The descriptors of a convolution; `key` names it for the algorithm cache.
struct ConvDescs {
  Descriptor<cudnnTensorDescriptor_t> x, y;
  Descriptor<cudnnFilterDescriptor_t> w;
  Descriptor<cudnnConvolutionDescriptor_t> conv;
  std::string key;
};

// Plain FP32 (no TF32): results within the conformance bounds of the reference backend.
std::shared_ptr<const ConvDescs> descs_of(const ConvShape& s) {
  auto d = std::make_shared<ConvDescs>();
  d->x = tensor_desc(s.x);
  d->y = tensor_desc(s.y);
  d->w = make_descriptor(cudnnCreateFilterDescriptor, cudnnDestroyFilterDescriptor);
  check(cudnnSetFilter4dDescriptor(d->w.get(), CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, int(s.w[0]), int(s.w[1]),
                                   int(s.w[2]), int(s.w[3])),
        "cudnnSetFilter4dDescriptor");
  const Ints &stride = s.node.attr_ints("stride"), &padding = s.node.attr_ints("padding");
  const Ints& dilation = s.node.attr_ints("dilation");
  const int64_t groups = s.node.attr_int("groups");
  d->conv = make_descriptor(cudnnCreateConvolutionDescriptor, cudnnDestroyConvolutionDescriptor);
  check(cudnnSetConvolution2dDescriptor(d->conv.get(), int(padding[0]), int(padding[1]), int(stride[0]),
                                        int(stride[1]), int(dilation[0]), int(dilation[1]),
                                        CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT),
        "cudnnSetConvolution2dDescriptor");
  check(cudnnSetConvolutionGroupCount(d->conv.get(), int(groups)), "cudnnSetConvolutionGroupCount");
  check(cudnnSetConvolutionMathType(d->conv.get(), CUDNN_FMA_MATH), "cudnnSetConvolutionMathType");
  d->key = fmt::format("x{} w{} y{} s{} p{} d{} g{}", fmt::join(s.x, ","), fmt::join(s.w, ","),
                       fmt::join(s.y, ","), fmt::join(stride, ","), fmt::join(padding, ","),
                       fmt::join(dilation, ","), groups);
  return d;
}

// An algorithm and its workspace.
template <typename Algo>
struct Choice {
  Algo algo;
  size_t workspace;
};

constexpr size_t kMaxWorkspace = size_t(1) << 30;

// The first algorithm of heuristics(max, &count, perf) that works within kMaxWorkspace, with the workspace
// workspace_of(algo) says, preferring deterministic ones in plain FP32 (no tensor-op math: the results stay
// within the conformance bounds, and repeat); chosen once per shape and direction in the process.
template <typename Perf, typename Heuristics, typename WorkspaceOf>
auto choose(const std::string& key, Heuristics heuristics, WorkspaceOf workspace_of) {
  using Algo = decltype(Perf{}.algo);
  static std::unordered_map<std::string, Choice<Algo>> cache;
  if (auto it = cache.find(key); it != cache.end()) return it->second;
  Perf perf[16];
  int count = 0;
  check(heuristics(16, &count, perf), "asking cuDNN's heuristics for a convolution algorithm");
  for (bool strict : {true, false}) {
    for (int i = 0; i < count; ++i) {
      size_t bytes = 0;
      const bool plain = perf[i].mathType == CUDNN_FMA_MATH || perf[i].mathType == CUDNN_DEFAULT_MATH;
      if (perf[i].status != CUDNN_STATUS_SUCCESS || !plain ||
          (strict && perf[i].determinism != CUDNN_DETERMINISTIC) ||
          workspace_of(perf[i].algo, &bytes) != CUDNN_STATUS_SUCCESS || bytes > kMaxWorkspace) {
        continue;
      }
      return cache[key] = {perf[i].algo, bytes};
    }
  }
  fail("cuDNN has no convolution algorithm for {}", key);
}

Ref workspace(Compiler& c, size_t bytes) { return bytes > 0 ? c.buffer(bytes) : Ref{}; }

Descriptor<cudnnActivationDescriptor_t> relu_desc() {
  auto desc = make_descriptor(cudnnCreateActivationDescriptor, cudnnDestroyActivationDescriptor);
  check(cudnnSetActivationDescriptor(desc.get(), CUDNN_ACTIVATION_RELU, CUDNN_NOT_PROPAGATE_NAN, 0.0),
        "cudnnSetActivationDescriptor");
  return desc;
}

ConvShape conv_shape(const Node& node, const Value* x, const Value* w, const Value* y) {
  return {node, x->type().shape, w->type().shape, y->type().shape};
}

// (x, w[, bias[, residual]]) -> y, then relu
void conv2d(const Node& node, Compiler& c) {
  const size_t n = node.inputs().size();
  auto in = [&](size_t i) { return i < n ? c.input(node.input(i)) : Ref{}; };
  convolution(c, conv_shape(node, node.input(0), node.input(1), node.output()), in(0), in(1), in(2), in(3),
              flag(node, "relu"), c.output(node.output()));
}

// (dy, w) -> dx
void conv2d_grad_input(const Node& node, Compiler& c) {
  const Ints& x = node.attr_ints("input_shape");
  const ConvShape s{node, Shape(x.begin(), x.end()), node.input(1)->type().shape,
                    node.input(0)->type().shape};
  convolution_grad_input(c, s, c.input(node.input(0)), c.input(node.input(1)), c.output(node.output()));
}

// (dy, x) -> dw
void conv2d_grad_weight(const Node& node, Compiler& c) {
  const Ints& w = node.attr_ints("weight_shape");
  const ConvShape s{node, node.input(1)->type().shape, Shape(w.begin(), w.end()),
                    node.input(0)->type().shape};
  convolution_grad_weight(c, s, c.input(node.input(0)), c.input(node.input(1)), c.output(node.output()));
}

void channel_sum(Compiler& c, const Shape& shape, Ref dy, Ref db) {
  const kernels::Channels channels = channels_of(shape);
  c.add([=](const RunContext& r) { kernels::channel_sum(r.at(dy), r.at(db), channels, r.stream()); },
        {dy, db});
}

// dy -> dy summed over every axis but 1.
void bias_grad(const Node& node, Compiler& c) {
  channel_sum(c, node.input(0)->type().shape, c.input(node.input(0)), c.output(node.output()));
}

BatchNorm conv_bn_norm(const Node& node, const Shape& z) {
  const double momentum = node.attrs().count("momentum") ? node.attr_float("momentum") : 0.0;
  return {z, node.attr_float("eps"), momentum, node.attr_bool("relu")};
}

// (x, w, b, gamma, beta, running mean, running var) -> (y, z, mean, var, new running mean, new running var)
void conv_bn(const Node& node, Compiler& c) {
  const Ref z = c.output(node.output(1));
  convolution(c, conv_shape(node, node.input(0), node.input(1), node.output(1)), c.input(node.input(0)),
              c.input(node.input(1)), c.input(node.input(2)), Ref{}, false, z);
  std::vector<Ref> in = {z}, out;
  for (size_t i = 3; i < 7; ++i) in.push_back(c.input(node.input(i)));
  for (size_t i : {0, 2, 3, 4, 5}) out.push_back(c.output(node.output(i)));
  batch_norm_training(c, conv_bn_norm(node, node.output(1)->type().shape), in, out);
}

// (dy, x, w, z, gamma, beta, mean, var) -> (dx, dw, db, dgamma, dbeta)
void conv_bn_grad(const Node& node, Compiler& c) {
  const Shape& z = node.input(3)->type().shape;
  const Ref dz = c.buffer(node.input(3)->type().bytes());
  std::vector<Ref> in = {c.input(node.input(0)), c.input(node.input(3))};
  for (size_t i = 4; i < 8; ++i) in.push_back(c.input(node.input(i)));
  batch_norm_backward(c, conv_bn_norm(node, z), in, {dz, c.output(node.output(3)), c.output(node.output(4))});
  channel_sum(c, z, dz, c.output(node.output(2)));
  const ConvShape s = conv_shape(node, node.input(1), node.input(2), node.input(3));
  convolution_grad_input(c, s, dz, c.input(node.input(2)), c.output(node.output(0)));
  convolution_grad_weight(c, s, dz, c.input(node.input(1)), c.output(node.output(1)));
}

// (w, b, gamma, beta, mean, var) -> (w', b')
void fold_batch_norm(const Node& node, Compiler& c) {
  std::vector<Ref> in;
  for (const Value* v : node.inputs()) in.push_back(c.input(v));
  const Ref w = c.output(node.output(0)), b = c.output(node.output(1));
  const Shape& shape = node.input(0)->type().shape;
  const int64_t outs = shape[0], per_channel = num_elements(shape) / outs;
  const double eps = node.attr_float("eps");
  c.add(
      [=](const RunContext& r) {
        kernels::fold_batch_norm(r.at(in[0]), r.at(in[1]), r.at(in[2]), r.at(in[3]), r.at(in[4]), r.at(in[5]),
                                 eps, r.at(w), r.at(b), outs, per_channel, r.stream());
      },
      {in[0], in[1], in[2], in[3], in[4], in[5], w, b});
}

}  // namespace

void convolution(Compiler& c, const ConvShape& s, Ref x, Ref w, Ref bias, Ref residual, bool relu, Ref y) {
  const auto d = descs_of(s);
  const cudnnHandle_t h = device().cudnn;
  const auto algo = choose<cudnnConvolutionFwdAlgoPerf_t>(
      "fwd " + d->key,
      [&](int max, int* count, cudnnConvolutionFwdAlgoPerf_t* perf) {
        return cudnnGetConvolutionForwardAlgorithm_v7(h, d->x.get(), d->w.get(), d->conv.get(), d->y.get(),
                                                      max, count, perf);
      },
      [&](cudnnConvolutionFwdAlgo_t a, size_t* bytes) {
        return cudnnGetConvolutionForwardWorkspaceSize(h, d->x.get(), d->w.get(), d->conv.get(), d->y.get(),
                                                       a, bytes);
      });
  const Ref ws = workspace(c, algo.workspace);
  if (relu && bias) {
    const auto bias_d = tensor_desc({s.y[1]});
    const auto act = relu_desc();
    c.add(
        [=](const RunContext& r) {
          // z is the residual (alpha2 = 1), or y itself, unread, with alpha2 = 0.
          check(cudnnConvolutionBiasActivationForward(r.device.cudnn, &kOne, d->x.get(), r.at(x), d->w.get(),
                                                      r.at(w), d->conv.get(), algo.algo, r.at(ws),
                                                      algo.workspace, residual ? &kOne : &kZero, d->y.get(),
                                                      residual ? r.at(residual) : r.at(y), bias_d.get(),
                                                      r.at(bias), act.get(), d->y.get(), r.at(y)),
                "cudnnConvolutionBiasActivationForward");
        },
        {x, w, bias, residual, ws, y});
    return;
  }
  c.add(
      [=](const RunContext& r) {
        check(cudnnConvolutionForward(r.device.cudnn, &kOne, d->x.get(), r.at(x), d->w.get(), r.at(w),
                                      d->conv.get(), algo.algo, r.at(ws), algo.workspace, &kZero, d->y.get(),
                                      r.at(y)),
              "cudnnConvolutionForward");
      },
      {x, w, ws, y});
  if (!bias && !residual && !relu) return;
  const kernels::Channels channels = channels_of(s.y);
  c.add(
      [=](const RunContext& r) {
        kernels::bias_add(r.at(y), r.at(bias), r.at(residual), relu, channels, r.stream());
      },
      {bias, residual, y});
}

void convolution_grad_input(Compiler& c, const ConvShape& s, Ref dy, Ref w, Ref dx) {
  const auto d = descs_of(s);
  const cudnnHandle_t h = device().cudnn;
  const auto algo = choose<cudnnConvolutionBwdDataAlgoPerf_t>(
      "data " + d->key,
      [&](int max, int* count, cudnnConvolutionBwdDataAlgoPerf_t* perf) {
        return cudnnGetConvolutionBackwardDataAlgorithm_v7(h, d->w.get(), d->y.get(), d->conv.get(),
                                                           d->x.get(), max, count, perf);
      },
      [&](cudnnConvolutionBwdDataAlgo_t a, size_t* bytes) {
        return cudnnGetConvolutionBackwardDataWorkspaceSize(h, d->w.get(), d->y.get(), d->conv.get(),
                                                            d->x.get(), a, bytes);
      });
  const Ref ws = workspace(c, algo.workspace);
  c.add(
      [=](const RunContext& r) {
        check(cudnnConvolutionBackwardData(r.device.cudnn, &kOne, d->w.get(), r.at(w), d->y.get(), r.at(dy),
                                           d->conv.get(), algo.algo, r.at(ws), algo.workspace, &kZero,
                                           d->x.get(), r.at(dx)),
              "cudnnConvolutionBackwardData");
      },
      {dy, w, ws, dx});
}

void convolution_grad_weight(Compiler& c, const ConvShape& s, Ref dy, Ref x, Ref dw) {
  const auto d = descs_of(s);
  const cudnnHandle_t h = device().cudnn;
  const auto algo = choose<cudnnConvolutionBwdFilterAlgoPerf_t>(
      "filter " + d->key,
      [&](int max, int* count, cudnnConvolutionBwdFilterAlgoPerf_t* perf) {
        return cudnnGetConvolutionBackwardFilterAlgorithm_v7(h, d->x.get(), d->y.get(), d->conv.get(),
                                                             d->w.get(), max, count, perf);
      },
      [&](cudnnConvolutionBwdFilterAlgo_t a, size_t* bytes) {
        return cudnnGetConvolutionBackwardFilterWorkspaceSize(h, d->x.get(), d->y.get(), d->conv.get(),
                                                              d->w.get(), a, bytes);
      });
  const Ref ws = workspace(c, algo.workspace);
  c.add(
      [=](const RunContext& r) {
        check(cudnnConvolutionBackwardFilter(r.device.cudnn, &kOne, d->x.get(), r.at(x), d->y.get(), r.at(dy),
                                             d->conv.get(), algo.algo, r.at(ws), algo.workspace, &kZero,
                                             d->w.get(), r.at(dw)),
              "cudnnConvolutionBackwardFilter");
      },
      {dy, x, ws, dw});
}

void add_conv_ops(OpTable& table) {
  table["conv2d"] = conv2d;
  table["conv2d_grad_input"] = conv2d_grad_input;
  table["conv2d_grad_weight"] = conv2d_grad_weight;
  table["bias_grad"] = bias_grad;
  table["conv_bn"] = conv_bn;
  table["conv_bn_grad"] = conv_bn_grad;
  table["fold_batch_norm"] = fold_batch_norm;
}

}  // namespace stratum::cudnn
