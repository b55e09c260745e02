// The graph a tool runs for a net: a training step or inference, fused for the plugins that will run it.
// train, bench and compare all build theirs here.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "backends/plugin.h"
#include "ir/graph.h"
#include "ir/op_attrs.h"
#include "nets/nets.h"

namespace stratum {

struct StepSpec {
  const NetDef* net = nullptr;
  int64_t batch = 0, size = 0;    // 0: the recipe's
  bool training = true;           // a training step (forward, backward, optimizer update) or inference
  bool fusion = true;             // run the fusion pipeline
  OptimizerAttrs optimizer = {};  // the training step's (its learning rate is the input %lr)
  std::vector<std::string> disabled_fusions = {};  // fusion passes to skip, of either pipeline
  bool logits = false;                             // inference: the logits as a third output, %logits
  DType precision = DType::f32;                    // bf16: mixed precision (passes/bf16.h)
  bool data_parallel = false;  // a training step's gradients averaged over the ranks (passes/data_parallel.h)
  bool sync_bn = false;        // and its batch-norm statistics the whole batch's, over every rank

  int64_t batch_or_recipe() const { return batch > 0 ? batch : net->recipe.batch; }
  int64_t size_or_recipe() const { return size > 0 ? size : net->recipe.input_size; }
  std::string mode() const { return training ? "train" : "infer"; }
  std::string fusion_name() const { return fusion ? "fused" : "unfused"; }
  std::string precision_name() const { return std::string(dtype_name(precision)); }
};

// The net's forward graph, in bf16 mixed precision when spec.precision is bf16 (Error, saying so, when one
// of `plugins` does not run bf16 here); for training, build_training_step and DCE; then, unless
// !spec.fusion, the fusion pipeline (fusion_manager) where every one of `plugins` runs the fused nodes.
// Inference keeps the loss and the count of correct predictions as its outputs.
std::unique_ptr<Graph> build_step(const StepSpec& spec, const std::vector<const stratum_plugin*>& plugins);

// --precision's value as a dtype: f32 or bf16; Error naming the flag otherwise.
DType parse_precision(const std::string& name);

// The dropout key %step of a training step's feed: distinct for each step of a run, and another sequence for
// each seed, so that --seed changes the dropout masks as it does the initialisation and the shuffle.
int32_t dropout_key(uint64_t seed, int64_t step);

}  // namespace stratum
