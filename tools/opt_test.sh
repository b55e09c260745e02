#!/usr/bin/env bash
# opt end to end: the example trains, its output reads back unchanged, and bad input gives line:col.
set -euo pipefail
opt="$1"
example="$2"
tmp="${TEST_TMPDIR:-/tmp}"

"$opt" "$example" --passes=autodiff,dce,plan --print > "$tmp/step.ir" 2> "$tmp/report.txt"
grep -q "update %conv1.weight = " "$tmp/step.ir" || { echo "no SGD update in the training step"; exit 1; }
grep -q "peak .* without reuse" "$tmp/report.txt" || { echo "no memory plan report"; cat "$tmp/report.txt"; exit 1; }

"$opt" - --print < "$tmp/step.ir" > "$tmp/again.ir"
cmp "$tmp/step.ir" "$tmp/again.ir" || { echo "print -> parse -> print changed the IR"; exit 1; }

printf 'graph g {\n  input %%x : f32[3]\n  %%y = relu(%%q) : f32[3]\n}\n' > "$tmp/bad.ir"
if "$opt" "$tmp/bad.ir" 2> "$tmp/error.txt"; then echo "bad IR was accepted"; exit 1; fi
grep -q "bad.ir:3:13: %q is not defined" "$tmp/error.txt" || { echo "unexpected error:"; cat "$tmp/error.txt"; exit 1; }

if "$opt" "$example" --passes=autodiff,nosuchpass 2> "$tmp/error.txt"; then echo "unknown pass accepted"; exit 1; fi
grep -q "unknown pass 'nosuchpass'" "$tmp/error.txt" || { echo "unexpected error:"; cat "$tmp/error.txt"; exit 1; }
"$opt" --model=onnx/testdata/bn_lenet_opset17/model.onnx --inference --fuse > "$tmp/model.txt"
grep -q "^batch_norm " "$tmp/model.txt" || { echo "no batch norm in the imported BN-LeNet:"; cat "$tmp/model.txt"; exit 1; }
echo "opt: all checks passed"
