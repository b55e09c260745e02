#!/usr/bin/env bash
# Peak resident memory of training, Stratum against PyTorch, net by net: //tools:bench and
# bench/torch_nets.py each train the same net at the same batch for the same steps in a process of their
# own under /usr/bin/time -f %M, and this prints both peaks and how far below PyTorch's Stratum's is.
#   bench/compare_memory.sh [--nets=alexnet,resnet18,densenet] [--steps=N]
# Needs PyTorch (apt-get install python3-torch, libopenblas0-openmp) and /usr/bin/time (apt-get install
# time). $STRATUM_BENCH names a built bench binary; else bazel builds //tools:bench.
set -euo pipefail
cd "$(dirname "$0")/.."

nets=alexnet,resnet18,densenet steps=2
for arg in "$@"; do
  case "$arg" in
    --nets=*) nets=${arg#*=} ;;
    --steps=*) steps=${arg#*=} ;;
    *) echo "compare_memory.sh: unknown argument '$arg'" >&2; exit 2 ;;
  esac
done
[[ -x /usr/bin/time ]] || { echo "compare_memory.sh needs /usr/bin/time (apt-get install time)" >&2; exit 1; }
source bench/common.sh
python=$(torch_python)
[[ -n $python ]] || { echo "compare_memory.sh needs PyTorch (apt-get install python3-torch)" >&2; exit 1; }
torch_setup "$python" cpu || exit 1
bench=$(stratum_bench)

# The peak resident set of a command, in MiB; fails, naming it, when the command fails.
peak_mib() {
  local kib
  if ! kib=$(/usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1) || ! [[ $kib =~ ^[0-9]+$ ]]; then
    echo "compare_memory.sh: this failed: $*" >&2
    return 1
  fi
  awk -v k="$kib" 'BEGIN { printf "%.0f", k / 1024 }'
}

echo "Peak RSS of training (recipe batch, $steps steps after 1 warm-up), Stratum (onednn) against PyTorch"
printf '%-12s %14s %14s %10s\n' net "Stratum MiB" "PyTorch MiB" below
IFS=, read -ra net_list <<<"$nets"
for net in "${net_list[@]}"; do
  ours=$(peak_mib "$bench" --nets="$net" --steps="$steps")
  theirs=$(peak_mib "$python" bench/torch_nets.py --nets="$net" --steps="$steps")
  printf '%-12s %14d %14d %9.0f%%\n' "$net" "$ours" "$theirs" "$(awk -v a="$ours" -v b="$theirs" 'BEGIN { print 100 * (1 - a / b) }')"
done
