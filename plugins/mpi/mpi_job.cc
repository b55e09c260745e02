#include "plugins/mpi/mpi_job.h"

#include <sched.h>

namespace stratum::mpi {

namespace {
double timeout = 0;
std::string error;
}  // namespace

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

double deadline() { return MPI_Wtime() + timeout; }

int timed_out(const char* what) {
  return failed(std::string(what) + " waited " + std::to_string(static_cast<int>(timeout)) +
                " s for the other ranks: one of them has died or hangs");
}

int wait(MPI_Request* request, const char* what) {
  const double end = deadline();
  for (int done = 0;;) {
    if (checked(MPI_Test(request, &done, MPI_STATUS_IGNORE), what) != 0) return 1;
    if (done) return 0;
    if (MPI_Wtime() > end) return timed_out(what);
    sched_yield();  // ranks may share cores (mpirun --oversubscribe)
  }
}

int join(double timeout_seconds) {
  timeout = timeout_seconds;
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

int barrier() {
  MPI_Request request;
  if (checked(MPI_Ibarrier(MPI_COMM_WORLD, &request), "MPI_Ibarrier") != 0) return 1;
  return wait(&request, "MPI_Ibarrier");
}

void abort_job(int code) { MPI_Abort(MPI_COMM_WORLD, code); }

int finalize() { return checked(MPI_Finalize(), "MPI_Finalize"); }

const char* last_error() { return error.c_str(); }

}  // namespace stratum::mpi
