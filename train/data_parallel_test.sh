#!/usr/bin/env bash
# Data-parallel training as 2 ranks under mpirun: the weights against one process and resuming at the other
# world size (data_parallel_test.cc), then a rank killed, and a rank stopped, mid-run: the job must end with
# a message within the timeout, never hang. Skipped, saying so, where MPI is absent.
set -uo pipefail
root="$TEST_SRCDIR/stratum"
if ! command -v mpirun >/dev/null || [ ! -e "$root/plugins/mpi/libstratumcomm_mpi.so" ]; then
  echo "SKIPPED: no mpirun or no MPI communicator built (tools/setup.sh installs OpenMPI): not run"
  exit 0
fi
mpi=(mpirun --allow-run-as-root --oversubscribe -np 2)
fail() { echo "FAIL: $*"; exit 1; }

"${mpi[@]}" "$root/train/data_parallel_test_ranks" || fail "data_parallel_test_ranks"

# Rank 1 runs train until `signal` reaches it 4 s in; rank 0 must not wait on it past --timeout.
run_with_rank_1() {
  local signal=$1 log="$TEST_TMPDIR/$1.log" start=$SECONDS
  "${mpi[@]}" sh -c 'if [ "$OMPI_COMM_WORLD_RANK" = 1 ]; then (sleep 4; kill -'"$signal"' $$) & fi; exec "$@"' \
    sh "$root/tools/train" --data-parallel --timeout=10 --limit=2560 --epochs=1000 --checkpoint-every=1000 \
    --out="$TEST_TMPDIR/$signal" >"$log" 2>&1
  local status=$? elapsed=$((SECONDS - start))
  cat "$log"
  [ "$status" -ne 0 ] || fail "mpirun exited 0 after rank 1 got SIG$signal"
  [ "$elapsed" -le 40 ] || fail "the job took ${elapsed} s to end after rank 1 got SIG$signal"
  echo "SIG$signal on rank 1: the job ended with status $status after $elapsed s"
}

run_with_rank_1 KILL
grep -q "exited on signal 9" "$TEST_TMPDIR/KILL.log" || fail "no message naming the killed rank"
run_with_rank_1 STOP
grep -q "rank 0 of 2: .*MPI_Iallreduce waited 10 s for the other ranks" \
  "$TEST_TMPDIR/STOP.log" || fail "rank 0 did not say why it stopped waiting"
echo "PASS"
