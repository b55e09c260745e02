// The MPI communicator (backends/communicator.h): Debian's OpenMPI between CPU processes started by mpirun.
// Every wait is a poll with a deadline (mpi_job.h).
#include <mpi.h>

#include <climits>
#include <cstring>
#include <string>
#include <vector>

#include "backends/communicator.h"
#include "plugins/mpi/mpi_job.h"

namespace stratum::mpi {

namespace {

std::vector<char> packed;  // a bucket's buffers, end to end

// Scales `count` values of T at `data` by 1/size.
template <typename T>
void divide_by_size(void* data, int64_t count) {
  T* values = static_cast<T*>(data);
  const T scale = T(1) / static_cast<T>(size());
  for (int64_t i = 0; i < count; ++i) values[i] *= scale;
}

int allreduce(void* const* buffers, const int64_t* counts, int32_t n, int32_t type, int32_t reduce) {
  const bool f64 = type == STRATUM_COMM_F64;
  const size_t element = f64 ? sizeof(double) : sizeof(float);
  int64_t total = 0;
  for (int32_t i = 0; i < n; ++i) total += counts[i];
  if (total > INT_MAX)
    return failed("an allreduce of " + std::to_string(total) + " values is over MPI's int");
  char* data = static_cast<char*>(buffers[0]);
  if (n > 1) {  // one buffer end to end: one call
    packed.resize(total * element);
    data = packed.data();
    for (int32_t i = 0, at = 0; i < n; at += counts[i++])
      std::memcpy(data + at * element, buffers[i], counts[i] * element);
  }
  MPI_Request request;
  if (checked(MPI_Iallreduce(MPI_IN_PLACE, data, static_cast<int>(total), f64 ? MPI_DOUBLE : MPI_FLOAT,
                             MPI_SUM, MPI_COMM_WORLD, &request),
              "MPI_Iallreduce") != 0 ||
      wait(&request, "MPI_Iallreduce") != 0)
    return 1;
  if (reduce == STRATUM_REDUCE_MEAN)
    f64 ? divide_by_size<double>(data, total) : divide_by_size<float>(data, total);
  if (n > 1) {
    for (int32_t i = 0, at = 0; i < n; at += counts[i++])
      std::memcpy(buffers[i], data + at * element, counts[i] * element);
  }
  return 0;
}

const stratum_communicator kMpi = {
    STRATUM_COMMUNICATOR_ABI_VERSION,
    sizeof(stratum_communicator),
    "mpi",
    "cpu",
    join,
    rank,
    size,
    allreduce,
    barrier,
    abort_job,
    finalize,
    last_error,
};

}  // namespace
}  // namespace stratum::mpi

extern "C" const stratum_communicator* stratum_communicator_entry(void) { return &stratum::mpi::kMpi; }
