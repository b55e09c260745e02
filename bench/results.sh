#!/usr/bin/env bash
# Reruns one row of docs/results.md: trains NET with RECIPE (book or modern; default book) for the recipe's
# epochs on oneDNN, copies the run's curves.svg to docs/results/NET-RECIPE.svg and prints the row.
#   bench/results.sh NET [RECIPE] [more train flags]
# $STRATUM_TRAIN names a built train binary; else bazel builds //tools:train.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
net=${1:?usage: bench/results.sh NET [RECIPE] [train flags]}
recipe=${2:-book}
shift $(($# < 2 ? $# : 2))

train=$(stratum_train)
run=$(mktemp -d)
trap 'rm -rf "$run"' EXIT
start=$(date +%s)
"$train" --net="$net" --recipe="$recipe" --out="$run" "$@" | tee "$run/log" >&2
seconds=$(($(date +%s) - start))
mkdir -p docs/results
cp "$run/curves.svg" "docs/results/$net-$recipe.svg"
# "loss 0.459, train acc 0.828, test acc 0.830" and "28741.4 examples/sec on onednn (cpu)", the summary lines
result=$(tail -2 "$run/log" | head -1)
speed=$(tail -1 "$run/log" | cut -d' ' -f1)
machine="$(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p')"
# The book's final official build's test accuracy and its range over ~20 builds (V100; ../shared/ANCHORS.md).
case $net in
  lenet) book="0.779 (0.772 – 0.824)" ;;
  alexnet) book="0.883 (0.866 – 0.885)" ;;
  vgg11_4) book="0.920 (0.900 – 0.924)" ;;
  nin) book="0.790 (0.785 – 0.879)" ;;
  googlenet) book="0.886 (0.850 – 0.902)" ;;
  bn_lenet) book="0.708 (0.52 – 0.885)" ;;
  resnet18) book="0.893 (0.806 – 0.924)" ;;
  densenet) book="0.885 (0.785 – 0.918)" ;;
  *) book="–" ;;
esac
printf '| `%s` | %s | %s | %d min %02d s | %.0f | %s | %s | [curves](results/%s-%s.svg) |\n' "$net" "$recipe" \
  "$result" $((seconds / 60)) $((seconds % 60)) "$speed" "$machine" "$book" "$net" "$recipe"
