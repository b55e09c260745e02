#!/usr/bin/env bash
# Stratum against PyTorch, net by net: runs //tools:bench and bench/torch_nets.py alternately, three rounds,
# and prints each one's median images/s and the median of the per-round ratios (Stratum / PyTorch).
#   bench/compare_pytorch.sh [--nets=all|a,b] [--mode=train|infer] [--batch=N] [--steps=N] [--rounds=N]
#                            [--backend=onednn|cudnn]
# Needs PyTorch (Debian: apt-get install python3-torch); without it, says so and exits 0. $PYTHON picks the
# interpreter; else the first of /usr/bin/python3 and python3 that imports torch. Prints PyTorch's threads
# and BLAS, and on the CPU stops unless that is OpenBLAS (apt-get install libopenblas0-openmp).
# $STRATUM_BENCH names a built bench binary; else bazel builds //tools:bench.
set -euo pipefail
cd "$(dirname "$0")/.."

nets=all mode=train batch=0 steps=10 rounds=3 backend=onednn
for arg in "$@"; do
  case "$arg" in
    --nets=*) nets=${arg#*=} ;;
    --mode=*) mode=${arg#*=} ;;
    --batch=*) batch=${arg#*=} ;;
    --steps=*) steps=${arg#*=} ;;
    --rounds=*) rounds=${arg#*=} ;;
    --backend=*) backend=${arg#*=} ;;
    *) echo "compare_pytorch.sh: unknown argument '$arg'" >&2; exit 2 ;;
  esac
done
device=cpu
[[ $backend == cudnn ]] && device=cuda

source bench/common.sh
python=$(torch_python)
if [[ -z $python ]]; then
  echo "PyTorch is not installed (apt-get install python3-torch, or set PYTHON): nothing to compare"
  exit 0
fi
torch_setup "$python" "$device" || exit 1
bench=$(stratum_bench)
[[ $nets == all ]] && nets=$("$python" -c 'import sys; sys.path.insert(0, "bench"); import torch_nets; print(",".join(torch_nets.NETS))')

echo "Stratum ($backend) against PyTorch ($device), $mode, $steps steps, median of $rounds rounds"
printf '%-12s %16s %16s %10s\n' net "Stratum img/s" "PyTorch img/s" ratio
IFS=, read -ra net_list <<<"$nets"
for net in "${net_list[@]}"; do
  result=$(side_by_side "$net" "$rounds" \
    '"$bench" --nets="$net" --backend="$backend" --mode="$mode" --batch="$batch" --steps="$steps" | images_per_s "$net"' \
    '"$python" bench/torch_nets.py --nets="$net" --mode="$mode" --batch="$batch" --steps="$steps" --device="$device" | images_per_s "$net"') ||
    exit 1
  read -r stratum torch ratio <<<"$result"
  printf '%-12s %16.1f %16.1f %9.2fx\n' "$net" "$stratum" "$torch" "$ratio"
done
