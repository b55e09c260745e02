// ONNX export: a net's inference graph (build_net(net, batch, /*training=*/false), fused or not) and its
// weights as an ONNX model that ONNX Runtime and other tools run. Opset 17, IR version 8, producer
// "stratum"; one input `x` [N,1,H,W] and one output `logits` [N,10], N symbolic. The loss head
// (softmax_cross_entropy and what only it reads) is left out; params and batch-norm running statistics
// become initializers under their Stratum names. Fused ops are written as the standard ONNX ops they fuse.
#pragma once

#include <cstdint>
#include <string>

#include "backends/reference/interpreter.h"
#include "ir/graph.h"
#include "onnx/onnx_pb.h"

namespace stratum {

inline constexpr int64_t kOnnxOpset = 17;
inline constexpr int64_t kOnnxIrVersion = 8;

// The logits: the first input of the graph's one softmax_cross_entropy. Error when there is not exactly one.
const Value* logits_of(const Graph& graph);

// The model computing the logits from %x, with each param and state it reads from `store`. Error naming the
// node and its op for an op with no ONNX form (a training or backward op), and naming the tensor for a
// weight the store lacks or holds with another type.
onnx::ModelProto export_onnx(const Graph& graph, const Store& store);

// Runs ONNX's checker and its (strict) shape inference on the model; Error with their message when either
// rejects it.
void check_onnx(const onnx::ModelProto& model);

// Writes the model to `path` atomically (train/files.h) and returns the number of bytes written.
int64_t write_onnx(const onnx::ModelProto& model, const std::string& path);

}  // namespace stratum
