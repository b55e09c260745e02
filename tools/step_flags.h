// The flags bench and compare share: what step to run and how long to time it.
#pragma once

#include <string>
#include <vector>

#include "tools/flags.h"
#include "tools/layer_times.h"
#include "tools/net_step.h"

namespace stratum {

// --mode, --batch, --size, --no-fusion, --disable, --precision, --steps, --warmup, --threads.
void add_step_flags(Flags& flags);

// The step of `net` the flags ask for; Error naming a bad --mode, --batch or --size.
StepSpec step_spec(const Flags& flags, const NetDef& net);
// Error when --steps < 1 or --warmup < 0.
TimingOptions timing_options(const Flags& flags);
// Sets OMP_NUM_THREADS from --threads, when given: call it before loading a plugin.
void apply_threads(const Flags& flags);

}  // namespace stratum
