// The NCCL communicator (backends/communicator.h): allreduce between GPUs, on the device buffers of a GPU
// plugin (the cuDNN plugin), in its stream's order. mpirun starts the ranks; MPI (mpi_job.h) carries NCCL's
// unique id from rank 0 to the others and does the barrier. Each rank takes the GPU of its local rank.
// Every wait polls against the timeout and aborts the NCCL communicator rather than hang.
// Built where CUDA, NCCL and MPI are; not yet run on a GPU (issue 18).
#include <cuda_runtime.h>
#include <nccl.h>
#include <sched.h>

#include <cstdlib>
#include <string>

#include "backends/communicator.h"
#include "plugins/mpi/mpi_job.h"

namespace stratum::nccl {

namespace {

ncclComm_t comm = nullptr;
cudaStream_t own_stream = nullptr;  // for allreduce, which waits

int nccl_checked(ncclResult_t result, const char* what) {
  if (result == ncclSuccess) return 0;
  return mpi::failed(std::string(what) + ": " + ncclGetErrorString(result));
}

int cuda_checked(cudaError_t result, const char* what) {
  if (result == cudaSuccess) return 0;
  return mpi::failed(std::string(what) + ": " + cudaGetErrorString(result));
}

int init(double timeout_seconds) {
  if (mpi::join(timeout_seconds) != 0) return 1;
  int devices = 0;
  if (cuda_checked(cudaGetDeviceCount(&devices), "cudaGetDeviceCount") != 0) return 1;
  if (devices == 0) return mpi::failed("no CUDA device");
  const char* local = std::getenv("OMPI_COMM_WORLD_LOCAL_RANK");
  const int device = (local != nullptr ? std::atoi(local) : mpi::rank()) % devices;
  if (cuda_checked(cudaSetDevice(device), "cudaSetDevice") != 0) return 1;
  ncclUniqueId id;
  if (mpi::rank() == 0 && nccl_checked(ncclGetUniqueId(&id), "ncclGetUniqueId") != 0) return 1;
  if (mpi::checked(MPI_Bcast(&id, sizeof(id), MPI_BYTE, 0, MPI_COMM_WORLD), "MPI_Bcast of NCCL's id") != 0)
    return 1;
  if (nccl_checked(ncclCommInitRank(&comm, mpi::size(), id, mpi::rank()), "ncclCommInitRank") != 0) return 1;
  return cuda_checked(cudaStreamCreateWithFlags(&own_stream, cudaStreamNonBlocking), "cudaStreamCreate");
}

int allreduce_async(void* const* buffers, const int64_t* counts, int32_t n, int32_t type, int32_t reduce,
                    void* stream) {
  const ncclDataType_t element = type == STRATUM_COMM_F64 ? ncclFloat64 : ncclFloat32;
  const ncclRedOp_t op = reduce == STRATUM_REDUCE_MEAN ? ncclAvg : ncclSum;
  if (nccl_checked(ncclGroupStart(), "ncclGroupStart") != 0) return 1;
  for (int32_t i = 0; i < n; ++i) {
    const ncclResult_t result = ncclAllReduce(buffers[i], buffers[i], static_cast<size_t>(counts[i]), element,
                                              op, comm, static_cast<cudaStream_t>(stream));
    if (result != ncclSuccess) {
      ncclGroupEnd();
      return nccl_checked(result, "ncclAllReduce");
    }
  }
  return nccl_checked(ncclGroupEnd(), "ncclGroupEnd");
}

// Aborts the communicator (its kernels stop waiting for peers); returns `status`.
int aborted(int status) {
  ncclCommAbort(comm);
  comm = nullptr;
  return status;
}

int wait_stream(void* stream) {
  const double deadline = mpi::deadline();
  for (;;) {
    const cudaError_t state = cudaStreamQuery(static_cast<cudaStream_t>(stream));
    if (state == cudaSuccess) return 0;
    if (state != cudaErrorNotReady) return cuda_checked(state, "waiting for the stream");
    ncclResult_t async = ncclSuccess;
    ncclCommGetAsyncError(comm, &async);
    if (async != ncclSuccess && async != ncclInProgress) return aborted(nccl_checked(async, "NCCL"));
    if (MPI_Wtime() > deadline) return aborted(mpi::timed_out("ncclAllReduce"));
    sched_yield();
  }
}

int allreduce(void* const* buffers, const int64_t* counts, int32_t n, int32_t type, int32_t reduce) {
  if (allreduce_async(buffers, counts, n, type, reduce, own_stream) != 0) return 1;
  return wait_stream(own_stream);
}

void abort_job(int code) {
  if (comm != nullptr) ncclCommAbort(comm);
  mpi::abort_job(code);
}

int finalize() {
  if (comm != nullptr && nccl_checked(ncclCommDestroy(comm), "ncclCommDestroy") != 0) return 1;
  comm = nullptr;
  return mpi::finalize();
}

const stratum_communicator kNccl = {
    STRATUM_COMMUNICATOR_ABI_VERSION,
    sizeof(stratum_communicator),
    "nccl",
    "gpu",
    init,
    mpi::rank,
    mpi::size,
    allreduce,
    mpi::barrier,
    abort_job,
    finalize,
    mpi::last_error,
    allreduce_async,
    wait_stream,
};

}  // namespace
}  // namespace stratum::nccl

extern "C" const stratum_communicator* stratum_communicator_entry(void) { return &stratum::nccl::kNccl; }
