#include "nets/nets.h"

#include "ir/error.h"

namespace stratum {

const std::vector<NetDef>& all_nets() {
  static const std::vector<NetDef> nets = [] {
    std::vector<NetDef> list;
    add_lenets(list);
    add_classic_nets(list);
    add_branched_nets(list);
    return list;
  }();
  return nets;
}

const NetDef& find_net(const std::string& name) {
  std::string names;
  for (const NetDef& net : all_nets()) {
    if (net.name == name) return net;
    names += (names.empty() ? "" : ", ") + net.name;
  }
  fail("no net '{}'; the nets are: {}", name, names);
}

std::unique_ptr<Graph> build_net(const NetDef& net, int64_t batch, bool training, int64_t input_size) {
  const int64_t size = input_size > 0 ? input_size : net.recipe.input_size;
  auto graph = std::make_unique<Graph>(net.name);
  Layers layers(*graph, training);
  Value* x = graph->add_input("x", {DType::f32, {batch, 1, size, size}});
  Value* labels = graph->add_input("labels", {DType::i32, {batch}});
  layers.loss(net.body(layers, x), labels);
  name_layers(*graph);
  return graph;
}

Recipe named_recipe(const Recipe& book, const std::string& name) {
  if (name == "book") return book;
  if (name != "modern") fail("--recipe must be book or modern, got '{}'", name);
  const bool small = book.input_size < 64;
  Recipe modern = book;
  modern.lr = (small ? 0.6 : 0.1) * double(book.batch) / 256;
  modern.optimizer = {.momentum = 0.9, .nesterov = true, .weight_decay = small ? 1e-4 : 5e-4};
  modern.schedule = {.kind = "cosine", .warmup_epochs = 1};
  if (!small) modern.augment = {.crop_padding = book.input_size / 14, .flip = true};
  return modern;
}

}  // namespace stratum
