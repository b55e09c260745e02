// allreduce inside the program, through the data-parallel job's communicator (set_world): each input copied
// to its output, then one collective call for them all, so that a bucket of gradients needs no boundary
// between programs (values crossing one leave oneDNN's layouts: ResNet-18 trained 25% slower so). Without a
// communicator, the copies alone.
#include <cstring>
#include <string_view>

#include "backends/cpp_plugin.h"
#include "ir/error.h"
#include "plugins/onednn/ops.h"

namespace stratum::onednn {

namespace {

const stratum_communicator* joined = nullptr;

void allreduce(const Node& node, Compiler& c) {
  std::vector<dnnl::memory> from, to;
  for (size_t i = 0; i < node.inputs().size(); ++i) {
    from.push_back(c.plain_input(node.input(i)));
    to.push_back(c.plain_output(node.output(i)));
  }
  const int32_t reduce = node.attr_string("reduce") == "mean" ? STRATUM_REDUCE_MEAN : STRATUM_REDUCE_SUM;
  std::vector<void*> buffers(to.size());
  std::vector<int64_t> counts;
  for (const dnnl::memory& m : to)
    counts.push_back(static_cast<int64_t>(m.get_desc().get_size() / sizeof(float)));
  std::vector<dnnl::memory> memories = from;
  memories.insert(memories.end(), to.begin(), to.end());
  c.add_loop(
      [=]() mutable {
        for (size_t i = 0; i < to.size(); ++i) {
          buffers[i] = data<float>(to[i]);
          std::memcpy(buffers[i], data<float>(from[i]), counts[i] * sizeof(float));
        }
        if (joined != nullptr &&
            joined->allreduce(buffers.data(), counts.data(), static_cast<int32_t>(buffers.size()),
                              STRATUM_COMM_F32, reduce) != 0)
          fail("{} allreduce failed: {}", joined->name, joined->last_error());
      },
      memories);
}

}  // namespace

int set_world(const stratum_communicator* world) {
  if (world != nullptr && std::string_view(world->device_kind) != "cpu") {
    plugin_last_error() = std::string("the ") + world->name + " communicator reduces " + world->device_kind +
                          " buffers, not the host's";
    return 1;
  }
  joined = world;
  return 0;
}

void add_collective_ops(OpTable& table) { table["allreduce"] = allreduce; }

}  // namespace stratum::onednn
