#!/usr/bin/env bash
# bench and compare from the command line on LeNet: they run, print their summaries and write CSV and SVG;
# bad flags are errors that name them.
set -euo pipefail
bench=$1 compare=$2
out=${TEST_TMPDIR:-$(mktemp -d)}

"$bench" --nets=lenet --batch=8 --steps=2 --compare-fusion --out="$out/bench" >"$out/bench.txt"
grep -q '^lenet 28 8 train [0-9.]* img/s [0-9.]* ms/step [0-9.]* GFLOP/img [0-9.]* GFLOP/s$' "$out/bench.txt"
grep -q '^lenet *train .*MiB' "$out/bench.txt"  # the fused-against-unfused table
[[ $(head -1 "$out/bench/summary.csv") == net,size,batch,mode,fusion,* ]]
[[ $(grep -c '^lenet,' "$out/bench/summary.csv") == 2 ]]
[[ $(grep -c '^lenet,fused,' "$out/bench/layers.csv") == 9 ]]
# --threads reaches oneDNN (OpenMP has read OMP_NUM_THREADS before main: setting it is not enough)
"$bench" --nets=lenet --batch=8 --steps=1 --threads=1 >"$out/threads.txt"
grep -q '^bench on onednn (.*, 1 threads)' "$out/threads.txt"

"$compare" --net=lenet --backends=reference,onednn --batch=4 --steps=1 --mode=infer --out="$out/compare" \
  >"$out/compare.txt"
grep -q '^step (wall clock): reference' "$out/compare.txt"
[[ $(wc -l <"$out/compare/layers.csv") == 12 ]]  # header, 9 layers, total, step
grep -q '</svg>' "$out/compare/layers.svg"

model=onnx/testdata/lenet_opset13/model.onnx  # LeNet from PyTorch: bench and compare take --model
"$bench" --model=$model --batch=8 --steps=1 --mode=infer >"$out/bench.txt"
grep -q '^model 28 8 infer [0-9.]* img/s' "$out/bench.txt"
"$compare" --model=$model --batch=4 --steps=1 --mode=infer --out="$out/compare_model" >"$out/compare.txt"
grep -q '^step (wall clock): reference' "$out/compare.txt"

source "$(dirname "$0")/cli_testing.sh"
expect_error "--mode must be train or infer" "$bench" --nets=lenet --mode=eval
expect_error "no net 'lenet5'" "$bench" --nets=lenet5
expect_error "unexpected argument '4'" "$bench" --nets=lenet --batch 4
expect_error "--backends takes two plugins" "$compare" --backends=onednn
expect_error "exclude each other" "$bench" --compare-fusion --no-fusion
expect_error "--nets and --model both name nets" "$bench" --nets=lenet --model=$model
expect_error "--net and --model both name a net" "$compare" --net=lenet --model=$model
expect_error "nonet.onnx: cannot open" "$bench" --model=nonet.onnx
expect_error "--precision must be f32 or bf16, not 'f16'" "$bench" --nets=lenet --precision=f16

# bf16 where the CPU has AVX512-BF16; elsewhere an error that says so.
if "$bench" --nets=bn_lenet --batch=8 --steps=1 --precision=bf16 >"$out/bf16.txt" 2>&1; then
  grep -q '^bn_lenet 28 8 train [0-9.]* img/s' "$out/bf16.txt"
else
  grep -q 'does not run bf16 on this machine' "$out/bf16.txt"
fi
echo PASS
