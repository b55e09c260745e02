#!/usr/bin/env bash
# Builds one fuzz target (fuzz/) with clang's libFuzzer, ASan and UBSan (bazel --config=fuzz) and runs it for
# SECONDS from its committed corpus. Fails on any crash, sanitizer report, leak or slow input (over 10 s);
# libFuzzer then says which input, saved under $FUZZ_OUT (default /tmp/fuzz-TARGET).
# Usage: tools/fuzz.sh TARGET SECONDS     TARGET: checkpoint, idx, onnx, parser or subgraph
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:?usage: tools/fuzz.sh TARGET SECONDS}
seconds=${2:?usage: tools/fuzz.sh TARGET SECONDS}
[ -d "fuzz/corpus/$target" ] || { echo "fuzz: no target '$target' (fuzz/corpus/ has: $(ls fuzz/corpus))" >&2; exit 2; }

bazel build --config=fuzz "//fuzz:${target}_fuzz"
binary="$(bazel info --config=fuzz bazel-bin)/fuzz/${target}_fuzz"
out=${FUZZ_OUT:-/tmp/fuzz-$target}
mkdir -p "$out/corpus"
# New inputs go to $out/corpus (kept between runs); the committed corpus only seeds it.
"$binary" "$out/corpus" "fuzz/corpus/$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
  -artifact_prefix="$out/" -print_final_stats=1
