#!/usr/bin/env bash
# bf16 mixed precision against f32, net by net: runs //tools:bench with --precision=bf16 and f32 alternately,
# three rounds, training and inference, and prints each one's median images/s and the median of the
# per-round ratios (bf16 / f32).
#   bench/compare_precision.sh [--nets=a,b] [--modes=train,infer] [--batch=N] [--steps=N] [--rounds=N]
# On a CPU without AVX512-BF16, bench says so and this stops there. $STRATUM_BENCH names a built bench binary;
# else bazel builds //tools:bench.
set -euo pipefail
cd "$(dirname "$0")/.."

nets=resnet18,googlenet,vgg11_4 modes=train,infer batch=0 steps=5 rounds=3
for arg in "$@"; do
  case "$arg" in
    --nets=*) nets=${arg#*=} ;;
    --modes=*) modes=${arg#*=} ;;
    --batch=*) batch=${arg#*=} ;;
    --steps=*) steps=${arg#*=} ;;
    --rounds=*) rounds=${arg#*=} ;;
    *) echo "compare_precision.sh: unknown argument '$arg'" >&2; exit 2 ;;
  esac
done
source bench/common.sh
bench=$(stratum_bench)

echo "Stratum (onednn) bf16 against f32, $steps steps, median of $rounds rounds"
printf '%-12s %-6s %14s %14s %10s\n' net mode "bf16 img/s" "f32 img/s" ratio
IFS=, read -ra net_list <<<"$nets"
IFS=, read -ra mode_list <<<"$modes"
for net in "${net_list[@]}"; do
  for mode in "${mode_list[@]}"; do
    result=$(side_by_side "$net $mode" "$rounds" \
      '"$bench" --nets="$net" --mode="$mode" --batch="$batch" --steps="$steps" --precision=bf16 | images_per_s "$net"' \
      '"$bench" --nets="$net" --mode="$mode" --batch="$batch" --steps="$steps" --precision=f32 | images_per_s "$net"') ||
      exit 1
    read -r bf16 f32 ratio <<<"$result"
    printf '%-12s %-6s %14.1f %14.1f %9.2fx\n' "$net" "$mode" "$bf16" "$f32" "$ratio"
  done
done
