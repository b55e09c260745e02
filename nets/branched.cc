// GoogLeNet, ResNet-18, DenseNet and RegNetX-32: the book's nets with branches that join again.
#include "nets/nets.h"

namespace stratum {

namespace {

const PoolAttrs kMax3s2p1 = {.kernel = {3, 3}, .stride = {2, 2}, .padding = {1, 1}};
const ConvAttrs kSame3 = {.padding = {1, 1}};

// Four branches, concatenated: 1×1 | 1×1 → 3×3 | 1×1 → 5×5 | 3×3 max pool → 1×1, each conv with ReLU.
Value* inception(Layers& l, const std::string& name, Value* x, int64_t c1, std::pair<int64_t, int64_t> c2,
                 std::pair<int64_t, int64_t> c3, int64_t c4) {
  Builder& b = l.ops();
  auto conv = [&](const std::string& branch, Value* h, int64_t channels, int64_t k) {
    return b.relu(l.conv(name + "." + branch, h, channels, k, {.padding = {k / 2, k / 2}}));
  };
  Value* p1 = conv("p1", x, c1, 1);
  Value* p2 = conv("p2_2", conv("p2_1", x, c2.first, 1), c2.second, 3);
  Value* p3 = conv("p3_2", conv("p3_1", x, c3.first, 1), c3.second, 5);
  Value* p4 = conv("p4_2", b.max_pool(x, {.kernel = {3, 3}, .stride = {1, 1}, .padding = {1, 1}}), c4, 1);
  return b.concat({p1, p2, p3, p4});
}

Value* googlenet(Layers& l, Value* x) {
  Builder& b = l.ops();
  Value* h =
      b.max_pool(b.relu(l.conv("b1.conv", x, 64, 7, {.stride = {2, 2}, .padding = {3, 3}})), kMax3s2p1);
  h = b.relu(l.conv("b2.conv1", h, 64, 1));
  h = b.max_pool(b.relu(l.conv("b2.conv2", h, 192, 3, kSame3)), kMax3s2p1);
  h = inception(l, "b3.inc1", h, 64, {96, 128}, {16, 32}, 32);
  h = b.max_pool(inception(l, "b3.inc2", h, 128, {128, 192}, {32, 96}, 64), kMax3s2p1);
  h = inception(l, "b4.inc1", h, 192, {96, 208}, {16, 48}, 64);
  h = inception(l, "b4.inc2", h, 160, {112, 224}, {24, 64}, 64);
  h = inception(l, "b4.inc3", h, 128, {128, 256}, {24, 64}, 64);
  h = inception(l, "b4.inc4", h, 112, {144, 288}, {32, 64}, 64);
  h = b.max_pool(inception(l, "b4.inc5", h, 256, {160, 320}, {32, 128}, 128), kMax3s2p1);
  h = inception(l, "b5.inc1", h, 256, {160, 320}, {32, 128}, 128);
  h = inception(l, "b5.inc2", h, 384, {192, 384}, {48, 128}, 128);
  return l.linear("fc", b.flatten(b.global_avg_pool(h)), 10);
}

// ResNet's and DenseNet's stem: 7×7 conv (stride 2), batch norm, ReLU, 3×3 max pool (stride 2).
Value* stem(Layers& l, Value* x) {
  Builder& b = l.ops();
  Value* h = l.batch_norm("stem.bn", l.conv("stem.conv", x, 64, 7, {.stride = {2, 2}, .padding = {3, 3}}));
  return b.max_pool(b.relu(h), kMax3s2p1);
}

// conv3-BN-ReLU-conv3-BN, plus the input (through a strided 1×1 conv where the shape changes), ReLU.
Value* residual(Layers& l, const std::string& name, Value* x, int64_t channels, int64_t stride) {
  Builder& b = l.ops();
  Value* y = b.relu(l.batch_norm(name + ".bn1", l.conv(name + ".conv1", x, channels, 3,
                                                       {.stride = {stride, stride}, .padding = {1, 1}})));
  y = l.batch_norm(name + ".bn2", l.conv(name + ".conv2", y, channels, 3, kSame3));
  if (stride != 1 || x->type().shape[1] != channels) {
    x = l.conv(name + ".shortcut", x, channels, 1, {.stride = {stride, stride}});
  }
  return b.relu(b.add(y, x));
}

Value* resnet18(Layers& l, Value* x) {
  Builder& b = l.ops();
  Value* h = stem(l, x);
  const int64_t channels[] = {64, 128, 256, 512};
  for (int stage = 0; stage < 4; ++stage) {
    const std::string name = "stage" + std::to_string(stage + 1);
    h = residual(l, name + ".block1", h, channels[stage], stage == 0 ? 1 : 2);
    h = residual(l, name + ".block2", h, channels[stage], 1);
  }
  return l.linear("fc", b.flatten(b.global_avg_pool(h)), 10);
}

// BN-ReLU-conv: DenseNet's pre-activation order.
Value* bn_relu_conv(Layers& l, const std::string& name, Value* x, int64_t channels, int64_t kernel) {
  return l.conv(name + ".conv", l.ops().relu(l.batch_norm(name + ".bn", x)), channels, kernel,
                {.padding = {kernel / 2, kernel / 2}});
}

// Each conv sees every earlier output of the block, concatenated.
Value* dense_block(Layers& l, const std::string& name, Value* x, int convs, int64_t growth) {
  for (int i = 1; i <= convs; ++i) {
    x = l.ops().concat({x, bn_relu_conv(l, name + ".conv" + std::to_string(i), x, growth, 3)});
  }
  return x;
}

// Halves the channels (1×1 conv) and the resolution (2×2 average pool).
Value* transition(Layers& l, const std::string& name, Value* x) {
  Value* h = bn_relu_conv(l, name, x, x->type().shape[1] / 2, 1);
  return l.ops().avg_pool(h, {.kernel = {2, 2}, .stride = {2, 2}});
}

Value* densenet(Layers& l, Value* x) {
  Builder& b = l.ops();
  Value* h = stem(l, x);
  for (int block = 1; block <= 4; ++block) {
    h = dense_block(l, "dense" + std::to_string(block), h, 4, 32);
    if (block < 4) h = transition(l, "transition" + std::to_string(block), h);
  }
  h = b.global_avg_pool(b.relu(l.batch_norm("head.bn", h)));
  return l.linear("fc", b.flatten(h), 10);
}

// RegNetX's block (ResNeXt's, bottleneck ratio 1): 1×1 conv-BN-ReLU, grouped 3×3 conv-BN-ReLU (groups of
// `group_width` channels), 1×1 conv-BN, plus the input (1×1 conv and BN where it is strided), ReLU.
Value* regnet_block(Layers& l, const std::string& name, Value* x, int64_t channels, int64_t group_width,
                    int64_t stride) {
  Builder& b = l.ops();
  Value* y = b.relu(l.batch_norm(name + ".bn1", l.conv(name + ".conv1", x, channels, 1)));
  y = b.relu(l.batch_norm(
      name + ".bn2",
      l.conv(name + ".conv2", y, channels, 3,
             {.stride = {stride, stride}, .padding = {1, 1}, .groups = channels / group_width})));
  y = l.batch_norm(name + ".bn3", l.conv(name + ".conv3", y, channels, 1));
  if (stride != 1) {
    x = l.batch_norm(name + ".bn4", l.conv(name + ".shortcut", x, channels, 1, {.stride = {stride, stride}}));
  }
  return b.relu(b.add(y, x));
}

Value* regnetx32(Layers& l, Value* x) {
  Builder& b = l.ops();
  Value* h =
      b.relu(l.batch_norm("stem.bn", l.conv("stem.conv", x, 32, 3, {.stride = {2, 2}, .padding = {1, 1}})));
  const std::pair<int, int64_t> stages[] = {{4, 32}, {6, 80}};
  for (size_t s = 0; s < std::size(stages); ++s) {
    for (int i = 0; i < stages[s].first; ++i) {
      const std::string name = "stage" + std::to_string(s + 1) + ".block" + std::to_string(i + 1);
      h = regnet_block(l, name, h, stages[s].second, 16, i == 0 ? 2 : 1);
    }
  }
  return l.linear("fc", b.flatten(b.global_avg_pool(h)), 10);
}

}  // namespace

void add_branched_nets(std::vector<NetDef>& nets) {
  nets.push_back({"googlenet",
                  "GoogLeNet: nine Inception blocks of four parallel branches",
                  {128, 0.1, 10, 96},
                  googlenet});
  nets.push_back({"resnet18",
                  "ResNet-18: four stages of two residual blocks with batch norm",
                  {256, 0.05, 10, 96},
                  resnet18});
  nets.push_back({"densenet",
                  "DenseNet: four dense blocks of four BN-ReLU-convs, growth 32, with transitions",
                  {256, 0.1, 10, 96},
                  densenet});
  nets.push_back({"regnetx32",
                  "RegNetX-32: two stages of ResNeXt blocks (4 at 32 channels, 6 at 80)",
                  {128, 0.05, 10, 96},
                  regnetx32});
}

}  // namespace stratum
