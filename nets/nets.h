// The classic CNNs of Dive into Deep Learning, each with the book's recipe, in one registry that the tools
// share (--net=NAME).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "data/augment.h"
#include "ir/graph.h"
#include "ir/op_attrs.h"
#include "nets/layers.h"

namespace stratum {

// How the learning rate moves over a run (train/schedule.h): constant, step decay (by `gamma` every
// `every_epochs`) or cosine to 0, after a linear warm-up of `warmup_epochs`.
struct LrSchedule {
  std::string kind = "constant";  // constant, step, cosine
  int64_t every_epochs = 0;       // step
  double gamma = 0.1;             // step
  double warmup_epochs = 0;
};

// A training recipe on Fashion-MNIST, resized to input_size: the book's is plain SGD at a constant rate.
struct Recipe {
  int64_t batch;
  double lr;
  int64_t epochs;
  int64_t input_size;
  OptimizerAttrs optimizer = {};
  LrSchedule schedule = {};
  Augment augment = {};  // of the training images: none in the book's recipes
};

// The recipes a net trains with: "book" (NetDef::recipe, the book's: plain SGD at a constant rate, no
// augmentation) and "modern": the book's batch, epochs and input size, with SGD with Nesterov momentum 0.9
// and a cosine decay after one epoch of linear warm-up. The 28-pixel LeNets take lr 0.6 per 256 examples of
// batch and weight decay 1e-4, unaugmented (in 10 epochs, crops and flips cost BN-LeNet 0.5–1.5 points of
// test accuracy: docs/results.md); the resized nets lr 0.1 per 256 and weight decay 5e-4, with random crops
// (padding input_size/14) and flips. Error naming --recipe for another name.
Recipe named_recipe(const Recipe& book, const std::string& name);

struct NetDef {
  std::string name;
  std::string description;
  Recipe recipe;
  // The layers from the image batch x [N,1,size,size] to the logits [N,10]: a built-in net's function, or
  // an imported model's (onnx/import.h).
  std::function<Value*(Layers& layers, Value* x)> body;
};

const std::vector<NetDef>& all_nets();
// The net of that name; Error listing the names when there is none.
const NetDef& find_net(const std::string& name);

// The net's forward graph for one batch: inputs %x f32[batch,1,size,size] and %labels i32[batch] (and
// %step, the dropout key, when it drops out in training), outputs %loss and %correct. input_size 0 takes
// the recipe's.
std::unique_ptr<Graph> build_net(const NetDef& net, int64_t batch, bool training, int64_t input_size = 0);

// Each family's nets.
void add_lenets(std::vector<NetDef>& nets);
void add_classic_nets(std::vector<NetDef>& nets);
void add_branched_nets(std::vector<NetDef>& nets);

}  // namespace stratum
