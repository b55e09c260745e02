// allreduce in the program's stream order, through the job's GPU communicator (set_world: NCCL), which the
// program then waits on with its deadline rather than synchronising the stream. Without a GPU communicator
// the plugin runs allreduce only in a world of one (copies); in a job over a host communicator (MPI) it
// leaves allreduce to the reference backend, which reduces on the host. Not yet run on a GPU (issue 18).
#include <string_view>

#include "ir/error.h"
#include "plugins/cudnn/ops.h"

namespace stratum::cudnn {

namespace {

const stratum_communicator* joined = nullptr;

bool gpu_world() {
  return joined != nullptr && std::string_view(joined->device_kind) == "gpu" &&
         STRATUM_COMMUNICATOR_HAS(joined, wait_stream) && joined->allreduce_async && joined->wait_stream;
}

// (x_1, ..., x_k) -> (y_1, ..., y_k): each x copied to its y, then one collective over the y's.
void allreduce(const Node& node, Compiler& c) {
  std::vector<Ref> from, to;
  std::vector<int64_t> counts;
  for (size_t i = 0; i < node.inputs().size(); ++i) {
    from.push_back(c.input(node.input(i)));
    to.push_back(c.output(node.output(i)));
    counts.push_back(node.output(i)->type().num_elements());
    c.copy(from[i], to[i], node.output(i)->type().bytes());
  }
  if (!gpu_world()) return;
  const int32_t reduce = node.attr_string("reduce") == "mean" ? STRATUM_REDUCE_MEAN : STRATUM_REDUCE_SUM;
  std::vector<void*> buffers(to.size());
  c.add(
      [=](const RunContext& r) mutable {
        for (size_t i = 0; i < to.size(); ++i) buffers[i] = r.at(to[i]);
        if (joined->allreduce_async(buffers.data(), counts.data(), static_cast<int32_t>(buffers.size()),
                                    STRATUM_COMM_F32, reduce, r.stream()) != 0)
          fail("{} allreduce failed: {}", joined->name, joined->last_error());
      },
      to);
  c.wait_with(joined);
}

}  // namespace

int set_world(const stratum_communicator* world) {
  joined = world;
  return 0;
}

bool runs_allreduce() { return gpu_world() || joined == nullptr || joined->size() == 1; }

void add_collective_ops(OpTable& table) { table["allreduce"] = allreduce; }

}  // namespace stratum::cudnn
