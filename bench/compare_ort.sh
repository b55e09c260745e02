#!/usr/bin/env bash
# Stratum against ONNX Runtime on the same ONNX files, net by net: exports each net from PyTorch
# (bench/torch_nets.py --export, opset 13), checks both runtimes' logits against PyTorch's, then times
# inference with //tools:bench --model and bench/ort_bench.js alternately, at the recipe batch and at batch 1,
# and prints each one's median images/s and the median of the per-round ratios (Stratum / ONNX Runtime).
#   bench/compare_ort.sh [--nets=all|a,b] [--batches=recipe,1] [--steps=N] [--rounds=N] [--threads=N]
# --steps is for the recipe batch; batch 1 runs 20 times as many. Needs PyTorch with onnx (Debian:
# python3-torch, python3-onnx) and onnxruntime-node: $ORT_NODE_MODULES names its node_modules, else the
# script installs it once into ~/.cache/stratum/ort (npm install --ignore-scripts onnxruntime-node).
# Without them it says so and exits 0. $STRATUM_BENCH names a built bench binary; else bazel builds it.
# Stratum's logits are checked by bazel test //onnx:pytorch_models_test on the exports.
set -euo pipefail
cd "$(dirname "$0")/.."

nets=all batches=recipe,1 steps=10 rounds=3 threads=2
for arg in "$@"; do
  case "$arg" in
    --nets=*) nets=${arg#*=} ;;
    --batches=*) batches=${arg#*=} ;;
    --steps=*) steps=${arg#*=} ;;
    --rounds=*) rounds=${arg#*=} ;;
    --threads=*) threads=${arg#*=} ;;
    *) echo "compare_ort.sh: unknown argument '$arg'" >&2; exit 2 ;;
  esac
done

python=
for candidate in ${PYTHON:-} /usr/bin/python3 python3; do
  if command -v "$candidate" >/dev/null && (cd / && "$candidate" -c 'import torch, onnx.numpy_helper') 2>/dev/null; then
    python=$candidate
    break
  fi
done
if [[ -z $python ]]; then
  echo "PyTorch with onnx is not installed (apt-get install python3-torch python3-onnx): nothing to compare"
  exit 0
fi
ort_modules=${ORT_NODE_MODULES:-$HOME/.cache/stratum/ort/node_modules}
if [[ ! -d $ort_modules/onnxruntime-node ]]; then
  if ! command -v npm >/dev/null ||
    ! npm install --prefix "$(dirname "$ort_modules")" --ignore-scripts onnxruntime-node >&2; then
    echo "onnxruntime-node is not installed and npm could not install it: nothing to compare"
    exit 0
  fi
fi
export NODE_PATH=$ort_modules

source bench/common.sh
bench=$(stratum_bench)
[[ $nets == all ]] && nets=$("$python" -c 'import sys; sys.path.insert(0, "bench"); import torch_nets; print(",".join(torch_nets.NETS))')
models=$(mktemp -d)
trap 'rm -rf "$models"' EXIT
"$python" bench/torch_nets.py --export="$models" --nets="$nets" --opsets=13 >&2

# Logits: ONNX Runtime's (bench/ort_check.js) and Stratum's on the reference backend and oneDNN
# (//onnx:pytorch_models_test), each against PyTorch's for the exported batch.
echo "ONNX Runtime's logits against PyTorch's:"
node bench/ort_check.js --tolerance=1e-4 "$models"/*/pytorch.json
echo "Stratum's logits against PyTorch's:"
if ! check=$(bazel test //onnx:pytorch_models_test --test_env=STRATUM_ONNX_MODELS="$models" --test_output=all \
  --nocache_test_results 2>&1); then
  echo "$check" | tail -30
  exit 1
fi
grep "^$models/" <<<"$check" | sed "s|^$models/||" || true

echo
echo "Stratum (onednn) against ONNX Runtime $(node -p 'require("onnxruntime-node/package.json").version'), inference, $threads threads, median of $rounds rounds"
printf '%-12s %6s %16s %16s %10s\n' net batch "Stratum img/s" "ORT img/s" ratio
IFS=, read -ra net_list <<<"$nets"
IFS=, read -ra batch_list <<<"$batches"
for net in "${net_list[@]}"; do
  read -r size recipe_batch < <("$python" -c 'import sys; sys.path.insert(0, "bench"); import torch_nets
n = torch_nets.NETS[sys.argv[1]]; print(n[3], n[1])' "$net")
  model=$models/${net}_opset13/model.onnx
  for b in "${batch_list[@]}"; do
    batch=$b n=$steps
    [[ $b == recipe ]] && batch=$recipe_batch
    [[ $batch == 1 ]] && n=$((steps * 20))
    result=$(side_by_side "$net batch $batch" "$rounds" \
      '"$bench" --model="$model" --mode=infer --batch="$batch" --steps="$n" --threads="$threads" | images_per_s' \
      'node bench/ort_bench.js "$model" "$batch" "$size" "$n" "$threads" | images_per_s') || exit 1
    read -r stratum ort ratio <<<"$result"
    printf '%-12s %6d %16.1f %16.1f %9.2fx\n' "$net" "$batch" "$stratum" "$ort" "$ratio"
  done
done
