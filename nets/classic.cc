// AlexNet, VGG-11 and NiN: the book's deep convolutional nets without branches.
#include "nets/nets.h"

namespace stratum {

namespace {

const PoolAttrs kMax3s2 = {.kernel = {3, 3}, .stride = {2, 2}};

// Two 4096-wide dense layers with dropout, then the 10 classes: AlexNet's and VGG's head.
Value* dense_head(Layers& l, Value* h) {
  Builder& b = l.ops();
  h = l.dropout(b.relu(l.linear("fc1", b.flatten(h), 4096)), 0.5);
  h = l.dropout(b.relu(l.linear("fc2", h, 4096)), 0.5);
  return l.linear("fc3", h, 10);
}

Value* alexnet(Layers& l, Value* x) {
  Builder& b = l.ops();
  Value* h = b.max_pool(b.relu(l.conv("conv1", x, 96, 11, {.stride = {4, 4}, .padding = {1, 1}})), kMax3s2);
  h = b.max_pool(b.relu(l.conv("conv2", h, 256, 5, {.padding = {2, 2}})), kMax3s2);
  h = b.relu(l.conv("conv3", h, 384, 3, {.padding = {1, 1}}));
  h = b.relu(l.conv("conv4", h, 384, 3, {.padding = {1, 1}}));
  h = b.max_pool(b.relu(l.conv("conv5", h, 256, 3, {.padding = {1, 1}})), kMax3s2);
  return dense_head(l, h);
}

// `convs` 3×3 convs with ReLU, then a 2×2 max pool.
Value* vgg_block(Layers& l, const std::string& name, Value* h, int convs, int64_t channels) {
  for (int i = 1; i <= convs; ++i) {
    h = l.ops().relu(l.conv(name + ".conv" + std::to_string(i), h, channels, 3, {.padding = {1, 1}}));
  }
  return l.ops().max_pool(h, {.kernel = {2, 2}, .stride = {2, 2}});
}

template <int kRatio>
Value* vgg11(Layers& l, Value* x) {
  const std::pair<int, int64_t> arch[] = {{1, 64}, {1, 128}, {2, 256}, {2, 512}, {2, 512}};
  Value* h = x;
  for (size_t i = 0; i < std::size(arch); ++i) {
    h = vgg_block(l, "block" + std::to_string(i + 1), h, arch[i].first, arch[i].second / kRatio);
  }
  return dense_head(l, h);
}

// A conv followed by two 1×1 convs, each with ReLU.
Value* nin_block(Layers& l, const std::string& name, Value* h, int64_t channels, int64_t kernel,
                 int64_t stride, int64_t padding) {
  Builder& b = l.ops();
  h = b.relu(l.conv(name + ".conv", h, channels, kernel,
                    {.stride = {stride, stride}, .padding = {padding, padding}}));
  h = b.relu(l.conv(name + ".mlp1", h, channels, 1));
  return b.relu(l.conv(name + ".mlp2", h, channels, 1));
}

Value* nin(Layers& l, Value* x) {
  Builder& b = l.ops();
  Value* h = b.max_pool(nin_block(l, "nin1", x, 96, 11, 4, 0), kMax3s2);
  h = b.max_pool(nin_block(l, "nin2", h, 256, 5, 1, 2), kMax3s2);
  h = b.max_pool(nin_block(l, "nin3", h, 384, 3, 1, 1), kMax3s2);
  h = nin_block(l, "nin4", l.dropout(h, 0.5), 10, 3, 1, 1);
  return b.flatten(b.global_avg_pool(h));
}

}  // namespace

void add_classic_nets(std::vector<NetDef>& nets) {
  nets.push_back({"alexnet",
                  "AlexNet: five convs, three max pools, two 4096-wide dense layers with dropout",
                  {128, 0.01, 10, 224},
                  alexnet});
  nets.push_back({"vgg11",
                  "VGG-11: five VGG blocks of 3×3 convs (64 to 512 channels), the dense head",
                  {128, 0.05, 10, 224},
                  vgg11<1>});
  nets.push_back({"vgg11_4",
                  "VGG-11 with a quarter of the channels, as the book trains it",
                  {128, 0.05, 10, 224},
                  vgg11<4>});
  nets.push_back({"nin",
                  "Network in Network: four NiN blocks, global average pooling, no dense layer",
                  {128, 0.1, 10, 224},
                  nin});
}

}  // namespace stratum
