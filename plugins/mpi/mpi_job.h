// What the communicators take from MPI (backends/communicator.h): joining the job mpirun started, rank and
// size, waits polled against a deadline (so that a rank that died or hangs ends the others' waits with an
// error, not a hang), the barrier, abort, finalize and the last error.
#pragma once

#include <mpi.h>

#include <string>

namespace stratum::mpi {

int failed(std::string message);          // records `message` as the last error; returns 1
int checked(int code, const char* what);  // 0 for MPI_SUCCESS, else failed("what: MPI's text")
double deadline();                        // now, plus the timeout given to join
// failed("<what> waited N s for the other ranks: one of them has died or hangs")
int timed_out(const char* what);
// Polls `request` until it completes, or fails once the timeout has passed.
int wait(MPI_Request* request, const char* what);

int join(double timeout_seconds);  // MPI_Init (unless done), errors returned rather than fatal
int rank();
int size();
int barrier();
void abort_job(int code);
int finalize();
const char* last_error();

}  // namespace stratum::mpi
