// The fusion passes. Each finds its candidates, checks that fusing is legal (the intermediate values have
// one user and are no graph output or update, every node runs on the same backend, and the fused op
// exists there) and rewrites the chain into one node, keeping the names of the values it replaces:
//   fold_bn        inference batch_norm after a conv2d -> fold_batch_norm of the conv's weights + conv2d
//   fuse_conv_bn   training conv2d -> batch_norm (-> relu) -> conv_bn, and its backward (relu_grad ->
//                  batch_norm_grad -> conv2d_grad_input/_weight, bias_grad) -> conv_bn_grad
//   fuse_residual  conv2d -> add -> conv2d with the add's other input as its residual
//   fuse_relu      conv2d/linear/add/batch_norm -> relu -> the same op with relu=true (a training
//                  batch_norm also folds its relu_grad into batch_norm_grad)
//   fuse_concat_bn inference batch_norm (-> relu) of a channel concat -> concat_batch_norm of the concat's
//                  parts (through nested concats), which never forms the concat
//   merge_pointwise  inference at batch 1: 1×1 conv2ds reading one x (GoogLeNet's inception branches) -> one
//                  conv2d of their weights concatenated and a slice of its output for each
//   recompute_bn_relu  training: the backward reads a fused batch-norm + relu's output normalised again
//                  from the values it keeps anyway, so that output need not live through the step
//   fuse_pool_sigmoid_grad  sigmoid_grad(avg_pool_grad(dy), y) -> avg_pool_sigmoid_grad(y, dy), which may
//                  write over y
// A fused node is backward (Node::backward) where its anchor is, and has the origin of the chain's anchor:
// the batch norm's (fuse_concat_bn), the relu's producer's, the sigmoid_grad's. Where it fuses the nodes of
// two of the net's layers (a conv with its batch norm or its residual add: fold_bn, fuse_conv_bn,
// fuse_residual), the two become one layer: the fused node and every other node of either get both origins
// joined by '+' ("stem.conv+stem.bn"). They never change what a graph computes beyond float rounding.
#pragma once

#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "passes/pass.h"
#include "passes/pass_manager.h"

namespace stratum {

// What the fusion passes are made with.
struct FusionOptions {
  std::ostream* explain = nullptr;  // told why each candidate that was not fused was not
  // Whether the backend that will run the graph runs this node itself (null: every node runs on one).
  std::function<bool(const Node&)> runs_on_plugin;
};

// The pipeline of the graph's kind, in order: {"fold_bn", "fuse_residual", "fuse_relu", "fuse_concat_bn",
// "merge_pointwise"} for inference, {"fuse_conv_bn", "fuse_residual", "fuse_relu", "recompute_bn_relu",
// "fuse_pool_sigmoid_grad"} for training (a step fused after autodiff).
std::vector<std::string> fusion_pipeline(bool training);

// A PassManager with that pipeline's passes made with `fusion`; its report's PassRecord::rewrites say how
// many chains each pass fused.
PassManager fusion_manager(bool training, const FusionOptions& fusion = {}, PassManagerOptions options = {});

// Every fusion pass's name.
std::vector<std::string> fusion_pass_names();

// The fusion pass of that name, for pass pipelines; Error for an unknown name.
std::unique_ptr<Pass> make_fusion_pass(const std::string& name, const FusionOptions& options = {});

// Registers every fusion pass with make_pass(); their `explain=1` option writes reasons to std::cerr.
void register_fusion_passes();

}  // namespace stratum
