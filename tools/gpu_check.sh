#!/usr/bin/env bash
# The cuDNN plugin's checks on the device machine, in one call, from the bundle tools/gpu_bundle.sh made
# here (no Bazel there):
#   run(command="bash tools/gpu_check.sh", carry=["gpu_bundle"], timeout_s=600)
# plugin_check in test and grad modes, LeNet's full recipe and one epoch of ResNet-18 on cudnn (img/s), and
# PyTorch's ResNet-18 on the same GPU; LeNet again without CUDA-graph replay, to compare. Logs go to $OUT (at most 8 files come back), summary.txt last. Each
# step has a time cap, and all of them end within 7.5 minutes.
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

torch_resnet18() {
  if [[ -f $root/bench/torch_nets.py ]]; then
    timeout 120 python3 "$root/bench/torch_nets.py" --net=resnet18 --device=cuda && return
    echo "bench/torch_nets.py failed; the inline timing follows"
  fi
  python3 - <<'EOF'
# The book's ResNet-18 (1 channel in, 96 px, 10 classes), one SGD training step timed over synthetic data.
import time, torch
from torch import nn

def residual(cin, cout, stride):
    body = nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1), nn.BatchNorm2d(cout), nn.ReLU(),
                         nn.Conv2d(cout, cout, 3, 1, 1), nn.BatchNorm2d(cout))
    skip = nn.Conv2d(cin, cout, 1, stride) if stride != 1 else nn.Identity()
    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.body, self.skip = body, skip
        def forward(self, x):
            return torch.relu(self.body(x) + self.skip(x))
    return Block()

def stage(cin, cout, first):
    return [residual(cin, cout, 1 if first else 2), residual(cout, cout, 1)]

net = nn.Sequential(nn.Conv2d(1, 64, 7, 2, 3), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(3, 2, 1),
                    *stage(64, 64, True), *stage(64, 128, False), *stage(128, 256, False),
                    *stage(256, 512, False), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(512, 10)).cuda()
print("parameters", sum(p.numel() for p in net.parameters()))
opt = torch.optim.SGD(net.parameters(), lr=0.05)
x = torch.rand(256, 1, 96, 96, device="cuda")
y = torch.randint(0, 10, (256,), device="cuda")

def img_per_s(steps=30):
    for i in range(steps + 5):
        if i == 5:
            torch.cuda.synchronize()
            start = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        nn.functional.cross_entropy(net(x), y).backward()
        opt.step()
    torch.cuda.synchronize()
    return steps * 256 / (time.perf_counter() - start)

for tf32 in (False, True):
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = tf32
    print(f"pytorch {torch.__version__} resnet18 {'tf32' if tf32 else 'fp32'}, NCHW, batch 256, 96 px:",
          f"{img_per_s():.0f} img/s")
EOF
}

export root bundle
export -f environment train torch_resnet18
step environment 60 environment
step plugin_check_test 90 "$bundle/bin/plugin_check" --plugin=cudnn --mode=test
step plugin_check_grad 90 "$bundle/bin/plugin_check" --plugin=cudnn --mode=grad
step lenet 120 train lenet 10
step lenet_eager 60 env STRATUM_CUDNN_GRAPHS=0 bash -c 'train lenet 2'
step resnet18 150 train resnet18 1
step torch_resnet18 120 torch_resnet18

{
  printf '%s\n' "${summary[@]}"
  echo
  grep -h "cases:\|skipped:" "$out"/plugin_check_*.log
  echo "lenet (book's test acc range 0.772 - 0.824):"
  grep -h "test acc\|examples/sec on" "$out/lenet.log" | tail -2
  echo "lenet without CUDA-graph replay (STRATUM_CUDNN_GRAPHS=0), 2 epochs:"
  grep -h "examples/sec on" "$out/lenet_eager.log"
  echo "resnet18, one epoch (book's V100 figure: 5,033 img/s):"
  grep -h "examples/sec" "$out/resnet18.log" | tail -2
  echo "pytorch resnet18 on the same GPU:"
  grep -h "img/s" "$out/torch_resnet18.log"
} >"$out/summary.txt" 2>&1
cat "$out/summary.txt"
