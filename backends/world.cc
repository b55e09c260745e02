#include "backends/world.h"

#include <cstdlib>

#include "ir/error.h"

namespace stratum {

namespace {

const stratum_communicator kSingle = {
    STRATUM_COMMUNICATOR_ABI_VERSION,
    sizeof(stratum_communicator),
    "single",
    "cpu",
    [](double) { return 0; },
    [] { return 0; },
    [] { return 1; },
    [](void* const*, const int64_t*, int32_t, int32_t, int32_t) { return 0; },
    [] { return 0; },
    [](int code) { std::exit(code); },
    [] { return 0; },
    [] { return ""; },
};

const stratum_communicator* joined = &kSingle;

}  // namespace

const stratum_communicator& world() { return *joined; }

void join_world(const stratum_communicator& communicator, double timeout_seconds) {
  if (joined != &kSingle) fail("this process has joined a {} job already", joined->name);
  if (communicator.init(timeout_seconds) != 0)
    fail("{}: joining the job failed: {}", communicator.name, communicator.last_error());
  joined = &communicator;
}

void leave_world() {
  if (joined == &kSingle) return;
  const stratum_communicator& left = *joined;
  joined = &kSingle;
  if (left.finalize() != 0) fail("{}: finalize failed: {}", left.name, left.last_error());
}

void sum_over_ranks(std::vector<double>& values, const char* what) {
  if (world().size() == 1) return;
  void* buffer = values.data();
  const int64_t count = static_cast<int64_t>(values.size());
  check_world(world().allreduce(&buffer, &count, 1, STRATUM_COMM_F64, STRATUM_REDUCE_SUM), what);
}

void check_world(int status, const char* what) {
  if (status != 0) fail("{} {} failed: {}", world().name, what, world().last_error());
}

std::string rank_prefix() {
  const int size = world().size();
  return size > 1 ? fmt::format("rank {} of {}: ", world().rank(), size) : "";
}

}  // namespace stratum
