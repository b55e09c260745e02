// LeNet-5 as the book builds it (sigmoid, average pooling), and the book's LeNet with batch norm.
#include "nets/nets.h"

namespace stratum {

namespace {

const PoolAttrs kPool2 = {.kernel = {2, 2}, .stride = {2, 2}};

Value* lenet(Layers& l, Value* x) {
  Builder& b = l.ops();
  Value* h = b.avg_pool(b.sigmoid(l.conv("conv1", x, 6, 5, {.padding = {2, 2}})), kPool2);
  h = b.avg_pool(b.sigmoid(l.conv("conv2", h, 16, 5)), kPool2);
  h = b.sigmoid(l.linear("fc1", b.flatten(h), 120));
  h = b.sigmoid(l.linear("fc2", h, 84));
  return l.linear("fc3", h, 10);
}

Value* bn_lenet(Layers& l, Value* x) {
  Builder& b = l.ops();
  Value* h = b.avg_pool(b.sigmoid(l.batch_norm("bn1", l.conv("conv1", x, 6, 5))), kPool2);
  h = b.avg_pool(b.sigmoid(l.batch_norm("bn2", l.conv("conv2", h, 16, 5))), kPool2);
  h = b.sigmoid(l.batch_norm("bn3", l.linear("fc1", b.flatten(h), 120)));
  h = b.sigmoid(l.batch_norm("bn4", l.linear("fc2", h, 84)));
  return l.linear("fc3", h, 10);
}

}  // namespace

void add_lenets(std::vector<NetDef>& nets) {
  nets.push_back({"lenet",
                  "LeNet-5: two sigmoid convs with average pooling, three dense layers",
                  {256, 0.9, 10, 28},
                  lenet});
  nets.push_back(
      {"bn_lenet", "LeNet with batch norm after every conv and dense layer", {256, 1.0, 10, 28}, bn_lenet});
}

}  // namespace stratum
