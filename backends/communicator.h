/* Stratum communicator interface, version 1: the collectives of data-parallel training.
 *
 * A communicator is a shared library, libstratumcomm_<name>.so, found on the plugins' search path
 * (backends/loader.h), that exports one function:
 *
 *     const stratum_communicator* stratum_communicator_entry(void);
 *
 * It wraps the engine a cluster already runs (MPI between CPU processes, NCCL between GPUs) behind these few
 * calls, so that Stratum itself never links one: a single process needs none, and a build without MPI
 * builds and tests everything else. Stratum joins the job the launcher started (`init`), reduces the
 * gradients of every training step (`allreduce`, the IR's allreduce op) and leaves (`finalize`). Every rank
 * makes the same calls in the same order; a call that cannot complete within the timeout given to `init`
 * (a rank died or hangs) fails, and the caller then ends the job with `abort`, so that no rank waits forever.
 *
 * Errors: functions return 0 on success and nonzero on failure, after which `last_error` says what.
 */
#ifndef STRATUM_BACKENDS_COMMUNICATOR_H_
#define STRATUM_BACKENDS_COMMUNICATOR_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define STRATUM_COMMUNICATOR_ABI_VERSION 1

typedef enum { STRATUM_REDUCE_SUM = 0, STRATUM_REDUCE_MEAN = 1 } stratum_reduce;
/* Element types: f32 for gradients, f64 for sums that must stay as exact as one process's (statistics). */
typedef enum { STRATUM_COMM_F32 = 0, STRATUM_COMM_F64 = 1 } stratum_comm_type;

typedef struct {
  uint32_t abi_version;    /* STRATUM_COMMUNICATOR_ABI_VERSION as the library was built */
  uint32_t struct_size;    /* sizeof(stratum_communicator) as built: fields added within version 1 go at the
                            * end, optional, read only where struct_size covers them */
  const char* name;        /* "mpi": the <name> of libstratumcomm_<name>.so */
  const char* device_kind; /* "cpu": buffers are host memory; "gpu": a gpu plugin's device memory */

  /* Joins the job from the launcher's environment (mpirun's); every later call fails after waiting
   * timeout_seconds for the other ranks. */
  int (*init)(double timeout_seconds);
  int (*rank)(void);
  int (*size)(void);
  /* Reduces n buffers of `type` (counts[i] elements each) in place over every rank, as one collective:
   * each buffer ends as the sum, or the mean, of that buffer on all ranks. */
  int (*allreduce)(void* const* buffers, const int64_t* counts, int32_t n, int32_t type, int32_t reduce);
  int (*barrier)(void);
  /* Ends every rank of the job with `code` (after an error on this one). */
  void (*abort)(int code);
  int (*finalize)(void);
  const char* (*last_error)(void);

  /* Optional (struct_size says whether they are there), for "gpu" communicators: allreduce enqueued on
   * `stream` (a cudaStream_t) after the work already there, returning at once, and the wait for a stream
   * polled against the timeout (on which the communicator aborts its collectives), so that a GPU plugin
   * reduces in stream order and never blocks on a rank that died. */
  int (*allreduce_async)(void* const* buffers, const int64_t* counts, int32_t n, int32_t type, int32_t reduce,
                         void* stream);
  int (*wait_stream)(void* stream);
} stratum_communicator;

/* Whether `communicator` has `field`: whether its struct_size covers it. */
#define STRATUM_COMMUNICATOR_HAS(communicator, field) \
  ((communicator)->struct_size >= offsetof(stratum_communicator, field) + sizeof((communicator)->field))

typedef const stratum_communicator* (*stratum_communicator_entry_fn)(void);
#define STRATUM_COMMUNICATOR_ENTRY "stratum_communicator_entry"

#ifdef __cplusplus
}
#endif

#endif /* STRATUM_BACKENDS_COMMUNICATOR_H_ */
