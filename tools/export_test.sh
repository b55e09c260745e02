#!/usr/bin/env bash
# export from the command line: LeNet's model and reference files are written; bad flags are errors that name
# them.
set -euo pipefail
export_tool=$1
out=${TEST_TMPDIR:-$(mktemp -d)}

"$export_tool" --net=lenet --out="$out/lenet.onnx" --reference-out="$out/lenet" >"$out/stdout.txt"
grep -q "^wrote $out/lenet.onnx: lenet 28×28 fused, 12 nodes, 10 initializers, [0-9]* bytes, weights from --seed=0$" \
  "$out/stdout.txt" || { echo "FAIL: unexpected summary:"; cat "$out/stdout.txt"; exit 1; }
[[ $(stat -c %s "$out/lenet.input.f32") == $((8 * 28 * 28 * 4)) ]]
[[ $(stat -c %s "$out/lenet.logits.f32") == $((8 * 10 * 4)) ]]
grep -q '"onnx": "lenet.onnx", "input": "lenet.input.f32", "input_shape": \[8, 1, 28, 28\]' "$out/lenet.json"
grep -q '"logits_shape": \[8, 10\]' "$out/lenet.json"

"$export_tool" --net=bn_lenet --fusion=false --batch=2 --out="$out/bn_lenet.onnx" >"$out/stdout.txt"
grep -q "bn_lenet 28×28 unfused, 16 nodes, 26 initializers" "$out/stdout.txt"

source "$(dirname "$0")/cli_testing.sh"
expect_error "--fusion takes true or false, got 'maybe'" "$export_tool" --fusion=maybe --out="$out/x.onnx"
expect_error "--out is required" "$export_tool" --net=lenet
expect_error "no net 'nonet'" "$export_tool" --net=nonet --out="$out/x.onnx"
expect_error "--checkpoint=$out/none: there is no such run directory" \
  "$export_tool" --checkpoint="$out/none" --out="$out/x.onnx"
echo garbage >"$out/bad.ckpt"
expect_error "--checkpoint=$out/bad.ckpt: " "$export_tool" --checkpoint="$out/bad.ckpt" --out="$out/x.onnx"
[[ ! -e "$out/x.onnx" ]] || { echo "FAIL: a failed export wrote its file"; exit 1; }
echo "export: all checks passed"
