// The processes a run spans: one, or the ranks of a data-parallel job joined through a communicator
// (backends/communicator.h). The IR's allreduce op reduces over them.
#pragma once

#include <string>
#include <vector>

#include "backends/communicator.h"

namespace stratum {

// The communicator the process has joined; until join_world, "single": one rank, whose reductions leave
// every buffer as it is.
const stratum_communicator& world();

// Joins the job `communicator` finds in the launcher's environment: world() is it from now on. Error naming
// the communicator when its init fails, or when the process has joined a job already.
void join_world(const stratum_communicator& communicator, double timeout_seconds);

// Leaves the job (its finalize); world() is the single process again. Nothing when it joined none.
void leave_world();

// Sums `values` over the ranks, in place; nothing in a single process.
void sum_over_ranks(std::vector<double>& values, const char* what);

// Throws Error "<name> <what> failed: <its last_error>" unless status is 0.
void check_world(int status, const char* what);

// "rank 1 of 4: " in a job of more than one rank, else "".
std::string rank_prefix();

}  // namespace stratum
