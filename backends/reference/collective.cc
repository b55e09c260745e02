// allreduce over the ranks of the world the process has joined (backends/world.h): one collective call for
// the node's inputs, copied to its outputs first. In a single process it is a copy.
#include <algorithm>

#include "backends/reference/common.h"
#include "backends/world.h"

namespace stratum::reference {

namespace {

void allreduce(const Node& node, const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) {
  std::vector<void*> buffers;
  std::vector<int64_t> counts;
  for (size_t i = 0; i < in.size(); ++i) {
    std::copy(in[i]->f32(), in[i]->f32() + in[i]->size(), out[i]->f32());
    buffers.push_back(out[i]->f32());
    counts.push_back(out[i]->size());
  }
  const bool mean = node.attr_string("reduce") == "mean";
  check_world(world().allreduce(buffers.data(), counts.data(), static_cast<int32_t>(buffers.size()),
                                STRATUM_COMM_F32, mean ? STRATUM_REDUCE_MEAN : STRATUM_REDUCE_SUM),
              "allreduce");
}

}  // namespace

void add_collective_kernels(KernelTable& table) { table["allreduce"] = allreduce; }

}  // namespace stratum::reference
