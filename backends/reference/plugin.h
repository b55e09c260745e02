// The reference backend behind the plugin interface, so that the executor treats every backend alike:
// host memory, every op, plain loops. load_plugin("reference") returns it.
#pragma once

#include "backends/plugin.h"

namespace stratum {

const stratum_plugin& reference_plugin();

}  // namespace stratum
