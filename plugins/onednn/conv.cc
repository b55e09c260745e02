// conv2d and its gradients as oneDNN convolutions in the layouts oneDNN prefers; bias_grad is folded into
// the weight gradient's primitive where one reads the same dy, else a loop.
#include <algorithm>
#include <cstring>
#include <string>

#include "plugins/onednn/ops.h"

namespace stratum::onednn {

namespace {

using dnnl::memory;

// A convolution in oneDNN's terms: grouped weights as [g, O/g, C/g, kh, kw] (the same bytes as the IR's
// [O, C/g, kh, kw]), dilation counted from 0 rather than PyTorch's 1.
struct ConvShape {
  ConvShape(const Node& node, DType dtype, const Shape& x, const Shape& w, const Shape& y);
  memory::desc bias(bool with_bias) const { return bias_desc(dst[1], with_bias); }
  memory::desc any(const memory::dims& dims) const { return any_desc(dims, type); }
  memory::data_type type;  // of x, w, y and their gradients (the bias is f32)
  memory::dims src, weights, dst, strides, dilates, padding;
  bool winograd_pays, matmul_pays;
};

// The largest output plane (pixels) whose bf16 weight gradient is one matmul of dy by x unfolded (below):
// 8×8 with AMX; without it (AVX512-BF16 alone) only 3×3, where oneDNN's kernel was slower than the matmul
// and at 6×6 faster (bf16 ResNet-18 training, stage 4's backward 21-35 ms a conv by matmul against 29-45,
// stage 3's 40-62 against 30-40).
int64_t matmul_plane() {
  static const int64_t pixels = cpu_has(dnnl::cpu_isa::avx512_core_amx) ? 8 * 8 : 3 * 3;
  return pixels;
}

// Winograd F(4×4, 3×3) is 1.5-2.5× faster than direct convolution on AVX-512 for 3×3 kernels at stride 1
// with 32 channels or more and output planes of 8×8 or more, and slower on smaller planes or fewer
// channels (measured). It needs enough outputs to pay for its transforms and its 4× larger transformed
// weights: at batch 1 direct is faster on every net (ResNet-18 +20%, DenseNet +35%), and at batch 2 too
// below 2,048 output pixels a channel (ResNet-18's 24×24 planes). Its results differ from direct's by a
// normalised MSE of about 1e-12.
ConvShape::ConvShape(const Node& node, DType dtype, const Shape& x, const Shape& w, const Shape& y)
    : type(data_type_of(dtype)),
      src(x.begin(), x.end()),
      weights(w.begin(), w.end()),
      dst(y.begin(), y.end()) {
  const int64_t groups = node.attr_int("groups");
  if (groups > 1) weights = {groups, w[0] / groups, w[1], w[2], w[3]};
  for (int i = 0; i < 2; ++i) {
    strides.push_back(node.attr_ints("stride")[i]);
    dilates.push_back(node.attr_ints("dilation")[i] - 1);
    padding.push_back(node.attr_ints("padding")[i]);
  }
  winograd_pays = dtype == DType::f32 && groups == 1 && w[2] == 3 && w[3] == 3 &&
                  strides == memory::dims{1, 1} && dilates == memory::dims{0, 0} && x[1] >= 32 &&
                  w[0] >= 32 && y[2] >= 8 && y[3] >= 8 && y[0] >= 2 && y[0] * y[2] * y[3] >= 2048;
  matmul_pays = dtype == DType::bf16 && groups == 1 && y[2] * y[3] <= matmul_plane();
}

constexpr dnnl::algorithm kDirect = dnnl::algorithm::convolution_direct;
constexpr dnnl::algorithm kWinograd = dnnl::algorithm::convolution_winograd;

// The primitive descriptor make(algorithm) gives for Winograd where it pays and oneDNN has it, else for
// direct convolution. make returns an empty descriptor for an algorithm oneDNN lacks (direct it always has).
template <typename Make>
auto preferred(const ConvShape& s, Make make) {
  if (s.winograd_pays) {
    if (auto pd = make(kWinograd)) return pd;
  }
  return make(kDirect);
}

dnnl::convolution_forward::primitive_desc forward_pd(const ConvShape& s, dnnl::algorithm algorithm,
                                                     bool with_bias, const dnnl::primitive_attr& attr,
                                                     Compiler& c) {
  const dnnl::convolution_forward::desc desc(dnnl::prop_kind::forward_training, algorithm, s.any(s.src),
                                             s.any(s.weights), s.bias(with_bias), s.any(s.dst), s.strides,
                                             s.dilates, s.padding, s.padding);
  return {desc, attr, c.engine(), /*allow_empty=*/algorithm != kDirect};
}

dnnl::convolution_backward_data::primitive_desc backward_data_pd(const ConvShape& s,
                                                                 dnnl::algorithm algorithm, Compiler& c) {
  const auto hint = forward_pd(s, algorithm, false, c.attr(), c);
  if (!hint) return {};
  const dnnl::convolution_backward_data::desc desc(algorithm, s.any(s.src), s.any(s.weights), s.any(s.dst),
                                                   s.strides, s.dilates, s.padding, s.padding);
  return {desc, c.attr(), c.engine(), hint, /*allow_empty=*/algorithm != kDirect};
}

dnnl::convolution_backward_weights::primitive_desc backward_weights_pd(
    const ConvShape& s, dnnl::algorithm algorithm, bool with_bias, const memory::desc& x_layout,
    const memory::desc& dy_layout, Compiler& c) {
  const auto hint = forward_pd(s, algorithm, with_bias, c.attr(), c);
  if (!hint) return {};
  const dnnl::convolution_backward_weights::desc desc(algorithm, x_layout, s.any(s.weights),
                                                      s.bias(with_bias), dy_layout, s.strides, s.dilates,
                                                      s.padding, s.padding);
  return {desc, c.attr(), c.engine(), hint, /*allow_empty=*/algorithm != kDirect};
}

// The weight gradient's primitive in the layouts oneDNN prefers, but for two cases it handles badly:
// - A bf16 conv whose x has fewer channels than a block of 16 (a net's first conv) takes dy in the layout it
//   comes in: oneDNN's AMX kernels would have it reordered to channels-last, a copy of a full-size gradient,
//   and gain nothing on so few channels (VGG-11/4's first conv in bf16: backward 98 -> 62 ms). Not in f32:
//   given BN-LeNet's plain dy, oneDNN falls back to a reference kernel (80x slower).
// - An f32 conv whose x oneDNN would pad to blocks of 8 channels (2-15 of them) runs an AVX2 kernel there;
//   where dy has 16 channels or more its AVX-512 kernel on channels-last x and dy is 1.7-2.5x as fast
//   (LeNet's conv2, 6 to 16 channels: 0.95 -> 0.38 ms), and it takes that unless oneDNN has only a
//   reference kernel for it.
dnnl::convolution_backward_weights::primitive_desc weight_gradient_pd(const ConvShape& s, bool with_bias,
                                                                      const memory::desc& dy_layout,
                                                                      const Value* x, Compiler& c) {
  const auto make = [&](const memory::desc& x_layout, const memory::desc& dy) {
    return preferred(
        s, [&](dnnl::algorithm a) { return backward_weights_pd(s, a, with_bias, x_layout, dy, c); });
  };
  const bool bf16_first = s.type == memory::data_type::bf16 && s.src[1] < 16;
  const auto pd = make(s.any(s.src), bf16_first ? dy_layout : s.any(s.dst));
  if (s.type != memory::data_type::f32 || channel_block(pd.src_desc(), x) != 8 || s.dst[1] < 16) return pd;
  const auto channels_last = make(memory::desc(s.src, s.type, memory::format_tag::nhwc),
                                  memory::desc(s.dst, s.type, memory::format_tag::nhwc));
  return std::string(channels_last.impl_info_str()).rfind("ref", 0) == 0 ? pd : channels_last;
}

// The weights (plain in the IR: fresh every training step, constant in inference) in the layout the
// primitive wants.
memory weights_in(Compiler& c, const Value* w, const ConvShape& s, const memory::desc& desc) {
  return c.convert(c.view(c.plain_input(w), plain_desc(s.weights, s.type)), desc);
}

// (x, w[, bias[, residual]]) -> y, then relu
void conv2d(const Node& node, Compiler& c) {
  const size_t n = node.inputs().size();
  conv_forward(node, c, node.input(0), node.input(1), n >= 3 ? node.input(2) : nullptr,
               n == 4 ? node.input(3) : nullptr, node.attr_bool("relu"), node.output());
}

// (dy, w) -> dx
void conv2d_grad_input(const Node& node, Compiler& c) {
  conv_backward_data(node, c, c.input(node.input(0)), node.input(1), node.attr_ints("input_shape"),
                     node.output());
}

// (dy, x) -> dw, and the bias gradient when a bias_grad of dy follows.
void conv2d_grad_weight(const Node& node, Compiler& c) {
  const Node* bias_grad = claim_bias_grad(node, node.input(0), c);
  conv_backward_weights(node, c, c.input(node.input(0)), node.input(1), node.attr_ints("weight_shape"),
                        node.output(), bias_grad ? bias_grad->output() : nullptr);
}

// db = dy (plain f32, of `shape`) summed over every axis but 1, as a loop.
void add_bias_sum(Compiler& c, const memory& dy, const Shape& shape, const memory& db) {
  const int64_t outer = shape[0], channels = shape[1];
  const int64_t inner = num_elements(shape) / std::max<int64_t>(outer * channels, 1);
  c.add_loop(
      [=] {
        const float* d = data<float>(dy);
        float* out = data<float>(db);
        parallel_for(
            channels,
            [&](int64_t ch) {
              double sum = 0;
              for (int64_t o = 0; o < outer; ++o) {
                const float* row = d + (o * channels + ch) * inner;
                for (int64_t i = 0; i < inner; ++i) sum += row[i];
              }
              out[ch] = static_cast<float>(sum);
            },
            outer * inner);
      },
      {dy, db});
}

// dy -> dy summed over every axis but 1, where no weight gradient computes it on the way (a bf16 dy
// converted to f32 first).
void bias_grad(const Node& node, Compiler& c) {
  const Shape& shape = node.input(0)->type().shape;
  add_bias_sum(c, c.input(node.input(0), plain_desc(dims_of(shape))), shape, c.plain_output(node.output()));
}

}  // namespace

// The primitive's sum post-op adds the convolution to what y holds: the residual, copied there, or in place
// where the residual dies here in y's layout (as ResNet's do).
void conv_forward(const Node& node, Compiler& c, const Value* x, const Value* w, const Value* bias,
                  const Value* residual, bool relu, const Value* y) {
  if (single_image_conv_runs(node, x->type().dtype, x->type().shape, w->type().shape, y->type().shape))
    return single_image_conv_forward(node, c, x, w, bias, residual, relu, y);
  if (!residual && direct_conv_runs(node, x->type().dtype, w->type().shape)) {
    return direct_conv_forward(node, c, x, w, bias, relu, y);
  }
  const ConvShape s(node, x->type().dtype, x->type().shape, w->type().shape, y->type().shape);
  const dnnl::primitive_attr attr = fused_attr(c, claim_activation(c, relu, y), residual != nullptr);
  const auto pd = preferred(s, [&](dnnl::algorithm a) { return forward_pd(s, a, bias != nullptr, attr, c); });
  memory dst;
  if (residual && c.input(residual).get_desc() == pd.dst_desc() &&
      c.may_write_over(residual, c.input(residual), node)) {
    dst = c.input(residual);
    c.write_over(y, dst);
  } else {
    dst = c.output(y, pd.dst_desc());
    if (residual) c.reorder(c.input(residual), dst);
  }
  Args args = {{DNNL_ARG_SRC, c.input(x, pd.src_desc())},
               {DNNL_ARG_WEIGHTS, weights_in(c, w, s, pd.weights_desc())},
               {DNNL_ARG_DST, dst}};
  if (bias) args[DNNL_ARG_BIAS] = c.input(bias, pd.bias_desc());
  c.add(pd, std::move(args));
}

void conv_backward_data(const Node& node, Compiler& c, const memory& dy, const Value* w, const Shape& x_shape,
                        const Value* dx) {
  if (direct_conv_data_grad_runs(node, w->type().dtype, w->type().shape, x_shape))
    return direct_conv_data_grad(node, c, dy, w, x_shape, dx);
  const ConvShape s(node, w->type().dtype, x_shape, w->type().shape, dy.get_desc().dims());
  const auto pd = preferred(s, [&](dnnl::algorithm a) { return backward_data_pd(s, a, c); });
  c.add(pd, {{DNNL_ARG_DIFF_DST, c.convert(dy, pd.diff_dst_desc())},
             {DNNL_ARG_WEIGHTS, weights_in(c, w, s, pd.weights_desc())},
             {DNNL_ARG_DIFF_SRC, c.output(dx, pd.diff_src_desc())}});
}

// The bf16 weight gradient of a conv with small output planes (matmul_plane: ResNet-18's and GoogLeNet's
// last stages), where oneDNN 2.6's AMX convolution kernel reaches 200-750 GFLOP/s, as one matmul:
// dw [O, kh·kw·C] = dyᵀ [O, N·oh·ow] · the unfolded x [N·oh·ow, kh·kw·C], both from channels-last layouts,
// then reordered from O-kh-kw-C to plain. ResNet-18 then trains 30% faster in bf16, GoogLeNet 22% (in f32,
// oneDNN's kernels are as fast as this).
void backward_weights_by_matmul(Compiler& c, const ConvShape& s, const memory& dy, const Value* x,
                                const Value* dw, const Value* db) {
  const int64_t n = s.src[0], channels = s.src[1], height = s.src[2], width = s.src[3];
  const int64_t outputs = s.dst[1], oh = s.dst[2], ow = s.dst[3], kh = s.weights[2], kw = s.weights[3];
  const int64_t rows = n * oh * ow, taps = kh * kw * channels;
  const memory x_last = c.input(x, memory::desc(s.src, s.type, memory::format_tag::nhwc));
  const memory dy_last = c.convert(dy, memory::desc(s.dst, s.type, memory::format_tag::nhwc));
  const memory unfolded = c.buffer(memory::desc({rows, taps}, s.type, memory::format_tag::ab));
  const size_t element = memory::data_type_size(s.type), pixel = channels * element;
  c.add_loop(
      [=] {
        const char* in = data<char>(x_last);
        char* out = data<char>(unfolded);
        parallel_for(
            rows,
            [&](int64_t row) {
              const int64_t image = row / (oh * ow), y = row / ow % oh, xo = row % ow;
              for (int64_t i = 0; i < kh; ++i) {
                for (int64_t j = 0; j < kw; ++j) {
                  const int64_t iy = y * s.strides[0] - s.padding[0] + i * (s.dilates[0] + 1);
                  const int64_t ix = xo * s.strides[1] - s.padding[1] + j * (s.dilates[1] + 1);
                  char* to = out + (row * taps + (i * kw + j) * channels) * element;
                  if (iy < 0 || iy >= height || ix < 0 || ix >= width) {
                    std::memset(to, 0, pixel);
                  } else {
                    std::memcpy(to, in + ((image * height + iy) * width + ix) * pixel, pixel);
                  }
                }
              }
            },
            taps);
      },
      {x_last, unfolded});
  const memory dy_transposed =
      c.view(dy_last, memory::desc({outputs, rows}, s.type, memory::dims{1, outputs}));
  const memory grad = c.buffer(memory::desc({outputs, taps}, s.type, memory::format_tag::ab));
  const dnnl::matmul::desc desc(dy_transposed.get_desc(), unfolded.get_desc(), grad.get_desc());
  const dnnl::matmul::primitive_desc pd(desc, c.attr(), c.engine());
  c.add(pd, {{DNNL_ARG_SRC, dy_transposed}, {DNNL_ARG_WEIGHTS, unfolded}, {DNNL_ARG_DST, grad}});
  c.reorder(c.view(grad, memory::desc(s.weights, s.type, memory::format_tag::ohwi)),
            c.view(c.plain_output(dw), plain_desc(s.weights, s.type)));
  if (db != nullptr) {
    const Shape shape(s.dst.begin(), s.dst.end());
    add_bias_sum(c, c.convert(dy_last, plain_desc(s.dst)), shape, c.plain_output(db));
  }
}

// dw leaves plain (what an SGD update or the caller reads): written there directly when the primitive's
// layout is plain, else reordered there after it.
void conv_backward_weights(const Node& node, Compiler& c, const memory& dy, const Value* x,
                           const Shape& w_shape, const Value* dw, const Value* db) {
  if (direct_conv_runs(node, x->type().dtype, w_shape))
    return direct_conv_weight_grad(node, c, dy, x, dw, db);
  const ConvShape s(node, x->type().dtype, x->type().shape, w_shape, dy.get_desc().dims());
  if (s.matmul_pays) return backward_weights_by_matmul(c, s, dy, x, dw, db);
  const auto pd = weight_gradient_pd(s, db != nullptr, dy.get_desc(), x, c);
  const memory plain_dw = c.view(c.plain_output(dw), plain_desc(s.weights, s.type));
  const memory weights_grad =
      plain_dw.get_desc() == pd.diff_weights_desc() ? plain_dw : c.buffer(pd.diff_weights_desc());
  Args args = {{DNNL_ARG_SRC, c.input(x, pd.src_desc())},
               {DNNL_ARG_DIFF_DST, c.convert(dy, pd.diff_dst_desc())},
               {DNNL_ARG_DIFF_WEIGHTS, weights_grad}};
  if (db) args[DNNL_ARG_DIFF_BIAS] = c.output(db, pd.diff_bias_desc());
  c.add(pd, std::move(args));
  if (weights_grad != plain_dw) c.reorder(weights_grad, plain_dw);
}

void add_conv_ops(OpTable& table) {
  table["conv2d"] = conv2d;
  table["conv2d_grad_input"] = conv2d_grad_input;
  table["conv2d_grad_weight"] = conv2d_grad_weight;
  table["bias_grad"] = bias_grad;
}

}  // namespace stratum::onednn
