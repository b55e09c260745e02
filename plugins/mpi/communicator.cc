// The MPI communicator (backends/communicator.h): Debian's OpenMPI between CPU processes started by mpirun.
// Every wait is a poll with a deadline, so that a rank that died or hangs ends the others' waits with an
// error rather than a hang.
#include <mpi.h>
#include <sched.h>

#include <climits>
#include <cstring>
#include <string>
#include <vector>

#include "backends/communicator.h"

namespace {

double timeout_seconds = 0;
std::string error;
std::vector<char> packed;  // a bucket's buffers, end to end

int failed(std::string message) {
  error = std::move(message);
  return 1;
}

int checked(int code, const char* what) {
  if (code == MPI_SUCCESS) return 0;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, text, &length);
  return failed(std::string(what) + ": " + std::string(text, length));
}

// Polls `request` until it completes, or fails once the timeout has passed.
int wait(MPI_Request* request, const char* what) {
  const double deadline = MPI_Wtime() + timeout_seconds;
  for (int done = 0;;) {
    if (checked(MPI_Test(request, &done, MPI_STATUS_IGNORE), what) != 0) return 1;
    if (done) return 0;
    if (MPI_Wtime() > deadline) {
      return failed(std::string(what) + " waited " + std::to_string(static_cast<int>(timeout_seconds)) +
                    " s for the other ranks: one of them has died or hangs");
    }
    sched_yield();  // ranks may share cores (mpirun --oversubscribe)
  }
}

int init(double timeout) {
  timeout_seconds = timeout;
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized && checked(MPI_Init(nullptr, nullptr), "MPI_Init") != 0) return 1;
  return checked(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler");
}

int rank() {
  int r = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &r);
  return r;
}

int size() {
  int s = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &s);
  return s;
}

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

int barrier() {
  MPI_Request request;
  if (checked(MPI_Ibarrier(MPI_COMM_WORLD, &request), "MPI_Ibarrier") != 0) return 1;
  return wait(&request, "MPI_Ibarrier");
}

void abort_job(int code) { MPI_Abort(MPI_COMM_WORLD, code); }

int finalize() { return checked(MPI_Finalize(), "MPI_Finalize"); }

const char* last_error() { return error.c_str(); }

const stratum_communicator kMpi = {
    STRATUM_COMMUNICATOR_ABI_VERSION,
    sizeof(stratum_communicator),
    "mpi",
    "cpu",
    init,
    rank,
    size,
    allreduce,
    barrier,
    abort_job,
    finalize,
    last_error,
};

}  // namespace

extern "C" const stratum_communicator* stratum_communicator_entry(void) { return &kMpi; }
