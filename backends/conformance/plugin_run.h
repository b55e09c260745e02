// Compiles a subgraph on a plugin once and runs it on host tensors, guarding every arg: guard bytes on both
// sides catch out-of-bounds writes, and inputs must come back unchanged.
#pragma once

#include <vector>

#include "backends/plugin.h"
#include "backends/subgraph.h"
#include "backends/tensor.h"

namespace stratum::conformance {

class PluginRun {
 public:
  // Allocates the args in the plugin's memory and compiles; throws Error with the plugin's message.
  PluginRun(const stratum_plugin& plugin, const SubgraphDesc& desc);
  ~PluginRun();
  PluginRun(const PluginRun&) = delete;
  PluginRun& operator=(const PluginRun&) = delete;

  // Copies `inputs` (one per input arg) in, runs, checks the guards and returns the output args.
  std::vector<Tensor> run(const std::vector<const Tensor*>& inputs);

 private:
  struct Arg {
    TensorType type;
    char* base;  // guard, the arg's bytes, guard
  };
  void check_guards(const Arg& arg, const std::vector<char>& host, size_t index) const;

  const stratum_plugin& plugin_;
  const SubgraphDesc& desc_;
  std::vector<Arg> args_;
  stratum_program* program_ = nullptr;
};

}  // namespace stratum::conformance
