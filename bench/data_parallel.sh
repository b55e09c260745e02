#!/usr/bin/env bash
# Data-parallel scaling on this machine: `train` as 2 ranks × 1 thread (mpirun, --data-parallel) against one
# process with 1 thread and with 2 threads, the same global batch, in rounds; prints each one's median
# images/s (the last epoch's, data loading included) and the 2 ranks' scaling efficiency against each.
#   bench/data_parallel.sh [--nets=lenet,resnet18] [--rounds=3]
# STRATUM_TRAIN overrides the train binary (default: bazel-bin/tools/train, built here).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh

nets=lenet,resnet18 rounds=3
for arg in "$@"; do
  case $arg in
    --nets=*) nets=${arg#*=} ;;
    --rounds=*) rounds=${arg#*=} ;;
    *) echo "usage: bench/data_parallel.sh [--nets=A,B] [--rounds=N]" >&2; exit 2 ;;
  esac
done
command -v mpirun >/dev/null || { echo "no mpirun: tools/setup.sh installs OpenMPI" >&2; exit 1; }
train=$(stratum_train)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# Examples each epoch: LeNet 120 steps of 256, ResNet-18 10 steps of 256; the second epoch is timed.
limit_of() { case $1 in lenet | bn_lenet) echo 30720 ;; *) echo 2560 ;; esac; }

# The examples/s of the last epoch a train command reports.
last_epoch_rate() { awk '/^epoch [0-9]+\/[0-9]+: / { rate = $(NF - 3) } END { print rate }'; }

run() {  # NET MODE: one process with 1 or 2 threads, or 2 ranks
  local net=$1 mode=$2 flags=(--net="$1" --limit="$(limit_of "$1")" --epochs=2 --checkpoint-every=100000)
  case $mode in
    1x1) "$train" "${flags[@]}" --threads=1 --out="$out/$net-$mode" ;;
    1x2) "$train" "${flags[@]}" --threads=2 --out="$out/$net-$mode" ;;
    2x1) mpirun --allow-run-as-root --oversubscribe -np 2 "$train" "${flags[@]}" --threads=1 --data-parallel \
      --out="$out/$net-$mode" ;;
  esac 2>&1 >/dev/null | tr '\r' '\n' | last_epoch_rate  # the epoch lines are on standard error
}

printf "%-10s %14s %14s %14s %16s %16s\n" net "1 x 1 img/s" "1 x 2 img/s" "2 x 1 img/s" "2x1 / (2 × 1x1)" "2x1 / 1x2"
declare -A median_of=()
for net in ${nets//,/ }; do
  declare -A rates=()
  for ((round = 1; round <= rounds; ++round)); do
    for mode in 1x1 1x2 2x1; do
      echo "  $net $mode: round $round/$rounds" >&2
      rates[$mode]+="$(run "$net" "$mode") "
    done
  done
  for mode in 1x1 1x2 2x1; do median_of[$mode]=$(tr ' ' '\n' <<<"${rates[$mode]}" | grep . | median); done
  printf "%-10s %14.1f %14.1f %14.1f %15.0f%% %15.0f%%\n" "$net" "${median_of[1x1]}" "${median_of[1x2]}" \
    "${median_of[2x1]}" "$(awk -v a="${median_of[2x1]}" -v b="${median_of[1x1]}" 'BEGIN { print 100 * a / (2 * b) }')" \
    "$(awk -v a="${median_of[2x1]}" -v b="${median_of[1x2]}" 'BEGIN { print 100 * a / b }')"
  unset rates
done
