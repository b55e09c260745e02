#!/usr/bin/env bash
# infer from the command line: a PyTorch-exported LeNet classifies the Fashion-MNIST test set (its weights are
# untrained: the report's form is what is checked, not its accuracy), other images without labels, and bad
# flags and files are errors that name them.
set -euo pipefail
infer=$1
out=${TEST_TMPDIR:-$(mktemp -d)}
model=onnx/testdata/lenet_opset13/model.onnx
source "$(dirname "$0")/cli_testing.sh"

"$infer" --model="$model" --show=3 --backend=reference >"$out/report.txt"
grep -q "^image     2: .* [0-9.]*%  (label: Trouser)$" "$out/report.txt"  # the test set's third image
grep -q "^accuracy 0\.[0-9]* ([0-9]* of 10000)$" "$out/report.txt"
grep -q "^  Ankle boot\( *[0-9]*\)\{10\}$" "$out/report.txt"
[[ $(grep -c "^image" "$out/report.txt") == 3 ]]

images=/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz
"$infer" --model="$model" --images=$images --show=1 >"$out/report.txt"
grep -q "^image     0: [A-Za-z/ -]* [0-9.]*%$" "$out/report.txt"
! grep -q "accuracy" "$out/report.txt"

expect_error "give one of --model and --checkpoint" "$infer"
expect_error "give one of --model and --checkpoint" "$infer" --model="$model" --checkpoint="$out"
expect_error "--labels goes with --images" "$infer" --model="$model" --labels="$images"
expect_error "$out/none.onnx: cannot open" "$infer" --model="$out/none.onnx"
head -c 100 "$model" >"$out/cut.onnx"
expect_error "$out/cut.onnx: not an ONNX model" "$infer" --model="$out/cut.onnx"
expect_error "not an ONNX file" "$infer" --model="$images"
expect_error "--precision must be f32 or bf16, not 'fp16'" "$infer" --model="$model" --precision=fp16
if "$infer" --model="$model" --show=1 --precision=bf16 >"$out/bf16.txt" 2>&1; then
  grep -q "^accuracy 0\.[0-9]* ([0-9]* of 10000)$" "$out/bf16.txt"
else
  grep -q 'does not run bf16 on this machine' "$out/bf16.txt"
fi
echo "infer: all checks passed"
