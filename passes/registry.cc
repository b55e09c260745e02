#include "passes/registry.h"

#include <mutex>

#include "passes/autodiff.h"
#include "passes/bf16.h"
#include "passes/dce.h"
#include "passes/fusion.h"
#include "passes/memory_plan.h"
#include "passes/pass.h"
#include "passes/pool_first.h"

namespace stratum {

void register_all_passes() {
  static std::once_flag once;
  std::call_once(once, [] {
    register_pass("autodiff", autodiff_pass_factory());
    register_pass("bf16", bf16_pass_factory());
    register_pass("dce", dce_pass_factory());
    register_pass("plan", plan_pass_factory());
    register_pass("pool_first", pool_first_pass_factory());
    register_fusion_passes();
  });
}

}  // namespace stratum
