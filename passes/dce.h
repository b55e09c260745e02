// Dead-code elimination: removes every node none of whose outputs reaches a graph output or an update.
#pragma once

#include <string_view>

#include "passes/pass.h"

namespace stratum {

class DcePass : public Pass {
 public:
  std::string_view name() const override { return "dce"; }
  bool run(Graph& graph) override;
};

// Registered as "dce"; takes no options.
PassFactory dce_pass_factory();

}  // namespace stratum
