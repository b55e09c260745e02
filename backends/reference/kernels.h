// The reference backend's kernels: every op of the registry, forward and backward, in plain loops written
// for clarity rather than speed. They are the oracle other backends are tested against.
#pragma once

#include <string_view>
#include <vector>

#include "backends/tensor.h"
#include "ir/graph.h"

namespace stratum {

// Computes the node's outputs from its inputs. The outputs arrive allocated with the node's output types;
// the kernel writes every element. Throws Error on invalid data (an out-of-range label, say).
using Kernel = void (*)(const Node& node, const std::vector<const Tensor*>& inputs,
                        const std::vector<Tensor*>& outputs);

// The kernel of the op of that name, or null when there is none.
const Kernel* find_reference_kernel(std::string_view op);

}  // namespace stratum
