// The fused ops: conv_bn and conv_bn_grad as a convolution and a batch normalisation whose relu is oneDNN's
// fuse_norm_relu, the batch norm's output never formed before its relu (nor, backward, the relu's gradient);
// fold_batch_norm as a loop over the weights; concat_batch_norm as a loop writing each part's channels of y.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#ifdef __SSE2__
#include <immintrin.h>
#endif

#include "plugins/onednn/ops.h"

namespace stratum::onednn {

namespace {

using dnnl::memory;

// (x, w, b, gamma, beta, running mean, running var) -> y, z, mean, var, new running mean, new running var
void conv_bn(const Node& node, Compiler& c) {
  conv_forward(node, c, node.input(0), node.input(1), node.input(2), nullptr, /*relu=*/false, node.output(1));
  batch_norm_training(node, c,
                      {node.output(1), node.input(3), node.input(4), node.input(5), node.input(6),
                       node.output(0), node.output(2), node.output(3), node.output(4), node.output(5)},
                      node.attr_bool("relu"));
}

// (dy, x, w, z, gamma, beta, saved mean, saved var) -> dx, dw, db, dgamma, dbeta; dx only when read.
void conv_bn_grad(const Node& node, Compiler& c) {
  const Value *x = node.input(1), *w = node.input(2);
  const memory dz = batch_norm_backward(node, c, c.input(node.input(0)), node.input(3), node.input(4),
                                        node.attr_bool("relu") ? node.input(5) : nullptr, node.input(6),
                                        node.input(7), nullptr, node.output(3), node.output(4));
  if (c.needed(node.output(0))) conv_backward_data(node, c, dz, w, x->type().shape, node.output(0));
  conv_backward_weights(node, c, dz, x, w->type().shape, node.output(1), node.output(2));
}

// (w, b, gamma, beta, mean, var) -> w·s, (b - mean)·s + beta with s = gamma/sqrt(var + eps) per channel
void fold_batch_norm(const Node& node, Compiler& c) {
  std::vector<memory> in;
  for (const Value* input : node.inputs()) in.push_back(c.plain_input(input));
  const memory folded_w = c.plain_output(node.output(0)), folded_b = c.plain_output(node.output(1));
  const int64_t channels = node.input(0)->type().shape[0];
  const int64_t per_channel = node.input(0)->type().num_elements() / channels;
  const double eps = node.attr_float("eps");
  std::vector<memory> touched = in;
  touched.insert(touched.end(), {folded_w, folded_b});
  c.add_loop(
      [=] {
        const float *w = data<float>(in[0]), *b = data<float>(in[1]), *gamma = data<float>(in[2]);
        const float *beta = data<float>(in[3]), *mean = data<float>(in[4]), *var = data<float>(in[5]);
        float *w_out = data<float>(folded_w), *b_out = data<float>(folded_b);
        parallel_for(
            channels,
            [&](int64_t ch) {
              const double scale = gamma[ch] / std::sqrt(double(var[ch]) + eps);
              for (int64_t i = ch * per_channel; i < (ch + 1) * per_channel; ++i)
                w_out[i] = static_cast<float>(w[i] * scale);
              b_out[ch] = static_cast<float>((b[ch] - double(mean[ch])) * scale + beta[ch]);
            },
            per_channel);
      },
      touched);
}

// out[j] = max(in[j]·a[j % kWidth] + b[j % kWidth], floor) for j < count. When `out` is whole cache lines the
// stores stream past the caches (nothing reads y until all of it is written), which saves reading it in.
template <int64_t kWidth>
void affine(const float* in, float* out, int64_t count, const float* a, const float* b, float floor) {
  int64_t j = 0;
#ifdef __SSE2__
  static_assert(kWidth % 4 == 0);
  const __m128 low = _mm_set1_ps(floor);
  const bool stream = reinterpret_cast<uintptr_t>(out) % 64 == 0 && count % 16 == 0;
  for (; j + 4 <= count; j += 4) {
    const int64_t k = j % kWidth;
    const __m128 v = _mm_add_ps(_mm_mul_ps(_mm_loadu_ps(in + j), _mm_loadu_ps(a + k)), _mm_loadu_ps(b + k));
    const __m128 y = _mm_max_ps(low, v);  // v where v is NaN
    stream ? _mm_stream_ps(out + j, y) : _mm_storeu_ps(out + j, y);
  }
  if (stream) _mm_sfence();
#endif
  for (; j < count; ++j) out[j] = std::max(in[j] * a[j % kWidth] + b[j % kWidth], floor);
}

// y[.., c, ..] = max(x·scale[c] + shift[c], floor) over one part of `blocks` channel blocks of `spatial`
// positions, written at channel block `offset` of y's `y_blocks`.
template <int64_t kBlock>
void normalize_part(const float* x, float* y, int64_t batch, int64_t blocks, int64_t y_blocks, int64_t offset,
                    int64_t spatial, const float* scale, const float* shift, float floor) {
  constexpr int64_t kWidth = std::max<int64_t>(kBlock, 4);  // a block's scales, repeated to fill a vector
  parallel_for(
      batch * blocks,
      [&](int64_t i) {
        const int64_t n = i / blocks, block = i % blocks, channel = (offset + block) * kBlock;
        float a[kWidth], b[kWidth];
        for (int64_t l = 0; l < kWidth; ++l)
          a[l] = scale[channel + l % kBlock], b[l] = shift[channel + l % kBlock];
        affine<kWidth>(x + i * spatial * kBlock, y + (n * y_blocks + offset + block) * spatial * kBlock,
                       spatial * kBlock, a, b, floor);
      },
      spatial * kBlock);
}

// normalize_part for a part of `channels` in blocks of 16 that it need not fill, into y's channels from
// `offset` on, which may cut through y's blocks: channel by channel.
void normalize_across(const float* x, float* y, int64_t batch, int64_t channels, int64_t y_blocks,
                      int64_t offset, int64_t spatial, const float* scale, const float* shift, float floor) {
  constexpr int64_t kBlock = 16;
  const int64_t blocks = (channels + kBlock - 1) / kBlock;
  parallel_for(
      batch * channels,
      [&](int64_t i) {
        const int64_t n = i / channels, ch = i % channels, to_ch = offset + ch;
        const float* from = x + (n * blocks + ch / kBlock) * spatial * kBlock + ch % kBlock;
        float* to = y + (n * y_blocks + to_ch / kBlock) * spatial * kBlock + to_ch % kBlock;
        for (int64_t s = 0; s < spatial * kBlock; s += kBlock)
          to[s] = std::max(from[s] * scale[to_ch] + shift[to_ch], floor);
      },
      spatial);
}

// (x_1, ..., x_k, gamma, beta, mean, var) -> y: each part normalised straight into its channels of y, in
// the channel-blocked layout the parts come in, so the concat is never formed. Parts in blocks of 16 that
// do not all fill them (DenseNet's last block, after a transition to 120 channels) are normalised channel by
// channel into y's blocks of 16, where plain they took a reorder of each part and of y (5-7 µs each at
// batch 1).
void concat_batch_norm(const Node& node, Compiler& c) {
  const std::vector<const Value*> parts(node.inputs().begin(), node.inputs().end() - 4);
  int64_t block = common_block(parts, c);
  const bool across = block == 1 && std::all_of(parts.begin(), parts.end(), [&](const Value* part) {
                        return channel_block(c.input(part).get_desc(), part) == 16;
                      });
  if (across) block = 16;
  std::vector<memory> in;
  std::vector<int64_t> part_channels;
  for (const Value* part : parts) {
    in.push_back(c.input(part, channel_blocked(part, block)));
    part_channels.push_back(part->type().shape[1]);
  }
  std::vector<memory> stats;
  for (auto it = node.inputs().end() - 4; it != node.inputs().end(); ++it)
    stats.push_back(c.plain_input(*it));
  const memory y = c.output(node.output(), channel_blocked(node.output(), block));
  const Shape& shape = node.output()->type().shape;
  const int64_t channels = shape[1], batch = shape[0], y_blocks = (channels + block - 1) / block,
                spatial = node.output()->type().num_elements() / batch / channels;
  const memory scale_shift = c.buffer(plain_desc(memory::dims{2 * channels}));
  const double eps = node.attr_float("eps");
  const float floor = node.attr_bool("relu") ? 0.f : -std::numeric_limits<float>::infinity();
  std::vector<memory> touched = in;
  touched.insert(touched.end(), stats.begin(), stats.end());
  touched.insert(touched.end(), {y, scale_shift});
  c.add_loop(
      [=] {
        const float *gamma = data<float>(stats[0]), *beta = data<float>(stats[1]);
        const float *mean = data<float>(stats[2]), *var = data<float>(stats[3]);
        float *scale = data<float>(scale_shift), *shift = scale + channels;
        for (int64_t ch = 0; ch < channels; ++ch) {
          const double s = gamma[ch] / std::sqrt(double(var[ch]) + eps);
          scale[ch] = static_cast<float>(s);
          shift[ch] = static_cast<float>(beta[ch] - mean[ch] * s);
        }
        int64_t offset = 0;  // in channels
        auto part = block == 16 ? normalize_part<16> : block == 8 ? normalize_part<8> : normalize_part<1>;
        for (size_t i = 0; i < in.size(); ++i) {
          if (across) {
            normalize_across(data<float>(in[i]), data<float>(y), batch, part_channels[i], y_blocks, offset,
                             spatial, scale, shift, floor);
          } else {
            part(data<float>(in[i]), data<float>(y), batch, part_channels[i] / block, y_blocks,
                 offset / block, spatial, scale, shift, floor);
          }
          offset += part_channels[i];
        }
        const int64_t used = channels % block;  // lanes of y's last block that hold channels (0: all)
        for (int64_t n = 0; used != 0 && n < batch; ++n) {  // and the rest, y's padding: zeros
          float* last = data<float>(y) + ((n + 1) * y_blocks - 1) * spatial * block;
          for (int64_t s = 0; s < spatial; ++s)
            std::fill(last + s * block + used, last + (s + 1) * block, 0.f);
        }
      },
      touched);
}

}  // namespace

void add_fused_ops(OpTable& table) {
  table["concat_batch_norm"] = concat_batch_norm;
  table["conv_bn"] = conv_bn;
  table["conv_bn_grad"] = conv_bn_grad;
  table["fold_batch_norm"] = fold_batch_norm;
}

}  // namespace stratum::onednn
