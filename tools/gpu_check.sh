#!/usr/bin/env bash
# The cuDNN plugin's checks on the device machine, in one call, from the bundle tools/gpu_bundle.sh made
# here (no Bazel there):
#   run(command="bash tools/gpu_check.sh", carry=["gpu_bundle"], timeout_s=600)
# plugin_check in test and grad modes, LeNet's full recipe and one epoch of ResNet-18 on cudnn (img/s), and
# PyTorch's ResNet-18 on the same GPU (FP32 and TF32), bench's per-layer times and fused against unfused;
# LeNet again without CUDA-graph replay, to compare. Logs go to $OUT (8 files, the most that come back),
# summary.txt last. Each step has a time cap, and all of them end within 7.5 minutes.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD bundle=$PWD/gpu_bundle out=${OUT:-/tmp/gpu_check} deadline=$((SECONDS + 450))
mkdir -p "$out"
[[ -x $bundle/bin/train ]] || { echo "no $bundle: run tools/gpu_bundle.sh first" | tee "$out/summary.txt"; exit 1; }

# cuDNN, cuBLAS and the CUDA runtime: the Python environment's NVIDIA wheels (nvidia/*/lib), else the
# toolkit's; fmt and zlib from the bundle.
wheels=$(python3 -c 'import glob, site; print(":".join(d for s in site.getsitepackages() for d in sorted(glob.glob(s + "/nvidia/*/lib"))))' 2>/dev/null)
export LD_LIBRARY_PATH="$bundle/lib:$wheels:/usr/local/cuda/lib64${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

summary=()
# step NAME CAP_SECONDS COMMAND...: runs COMMAND, output to $out/NAME.log, for at most CAP seconds and never
# past the deadline.
step() {
  local name=$1 cap=$2 left=$((deadline - SECONDS))
  shift 2
  ((cap > left)) && cap=$left
  if ((cap <= 0)); then summary+=("$name: not run (out of time)"); return; fi
  local start=$SECONDS
  timeout "$cap" bash -c '"$@"' "$name" "$@" >"$out/$name.log" 2>&1  # bash -c: the step may be a function
  local rc=$?
  summary+=("$name: exit $rc in $((SECONDS - start)) s (cap $cap s)")
}

environment() {
  nvidia-smi
  "$bundle/bin/gpu_info"
  python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, "cudnn", torch.backends.cudnn.version())'
  echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
  ldd "$bundle/bin/libstratum_cudnn.so" "$bundle/bin/train"
}

train() {  # train NET EPOCHS
  "$bundle/bin/train" --net="$1" --backend=cudnn --epochs="$2" --data-dir="$bundle/data" \
    --out="/tmp/gpu_check_runs/$1-$2-$$"
}

torch_resnet18() {  # bench/torch_nets.py: FP32 (as the cuDNN plugin computes), then TF32 (PyTorch's default)
  echo "pytorch fp32:" && python3 "$root/bench/torch_nets.py" --nets=resnet18 --steps=30 --warmup=5 --device=cuda
  echo "pytorch tf32:" && python3 "$root/bench/torch_nets.py" --nets=resnet18 --steps=30 --warmup=5 --device=cuda --tf32
}

export root bundle
export -f environment train torch_resnet18
step environment 60 environment
step plugin_check 150 bash -c '"$0" --plugin=cudnn --mode=test; t=$?; "$0" --plugin=cudnn --mode=grad && exit $t' \
  "$bundle/bin/plugin_check"
step lenet 120 train lenet 10
step lenet_eager 60 env STRATUM_CUDNN_GRAPHS=0 bash -c 'train lenet 2'
step resnet18 150 train resnet18 1
step torch_resnet18 120 torch_resnet18
step bench_resnet18 90 "$bundle/bin/bench" --nets=resnet18 --backend=cudnn --steps=30 --compare-fusion

{
  printf '%s\n' "${summary[@]}"
  echo
  grep -h "cases:\|skipped:" "$out/plugin_check.log"
  echo "lenet (book's test acc range 0.772 - 0.824):"
  grep -h "test acc\|examples/sec on" "$out/lenet.log" | tail -2
  echo "lenet without CUDA-graph replay (STRATUM_CUDNN_GRAPHS=0), 2 epochs:"
  grep -h "examples/sec on" "$out/lenet_eager.log"
  echo "resnet18, one epoch (book's V100 figure: 5,033 img/s):"
  grep -h "examples/sec" "$out/resnet18.log" | tail -2
  echo "pytorch resnet18 on the same GPU:"
  grep -h "pytorch\|img/s" "$out/torch_resnet18.log"
  echo "bench (the same columns as torch_nets.py), fused against unfused:"
  grep -h "GFLOP/s\|resnet18  " "$out/bench_resnet18.log"
} >"$out/summary.txt" 2>&1
cat "$out/summary.txt"
