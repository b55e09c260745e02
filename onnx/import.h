// ONNX models as Stratum graphs. The ops of classic CNNs import (import.cc lists them); anything Stratum
// cannot represent exactly is an Error naming the node, its op and opset and the attribute or input at
// fault: nothing is approximated.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "backends/reference/interpreter.h"
#include "nets/nets.h"
#include "onnx/model.h"

namespace stratum {

// The model's graph inputs (initializers aside) as Stratum types, dim 0 of each taken as `batch` (0: as the
// model declares it). Error naming the input when it is not float or has a dynamic dimension other than the
// batch.
std::vector<TensorType> onnx_input_types(const OnnxModel& model, int64_t batch = 0);

// Adds the model's nodes to layers' graph, `inputs` feeding the model's graph inputs in order, and returns
// the values of its outputs. Initializers and constants become params (batch-norm running statistics:
// state), named after them where the name is a valid value name, with their values put in `weights` and
// with the Init a fresh layer of their role would have (Xavier-uniform weights, ...), so init_store can
// re-initialise them. In training, batch norm uses batch statistics and dropout drops, as for Layers.
std::vector<Value*> import_onnx(const OnnxModel& model, Layers& layers, const std::vector<Value*>& inputs,
                                Store& weights);

// The ops import_onnx supports, comma-separated.
std::string supported_onnx_ops();

// An image classifier (one input [N,1,H,W], one output [N,classes]) as a net for the tools: its recipe is
// `recipe` with the input size the model's, and `weights` are its initializers. A final Softmax is left out
// (the loss takes the logits; the predicted class is the same).
struct OnnxNet {
  NetDef net;
  Store weights;
};
OnnxNet onnx_net(std::shared_ptr<const OnnxModel> model, Recipe recipe);

}  // namespace stratum
