#!/usr/bin/env bash
# Assembles gpu_bundle/ (ignored by git) for tools/gpu_check.sh on the device machine, which has no Bazel:
# the binaries built here with the cuDNN plugin beside them (the loader looks in the binary's folder), the
# shared libraries they need that the device's image may lack, and Fashion-MNIST. Then, with the device
# tool, one call: run(command="bash tools/gpu_check.sh", carry=["gpu_bundle"], timeout_s=600).
set -euo pipefail
cd "$(dirname "$0")/.."
bazel build //tools:plugin_check //tools:train //tools:bench //tools:gpu_info //plugins/cudnn:libstratum_cudnn.so
bundle=gpu_bundle
rm -rf "$bundle" && mkdir -p "$bundle/bin" "$bundle/lib" "$bundle/data"
cp bazel-bin/tools/plugin_check bazel-bin/tools/train bazel-bin/tools/bench bazel-bin/tools/gpu_info \
  bazel-bin/plugins/cudnn/libstratum_cudnn.so "$bundle/bin/"
# fmt and zlib come from this machine's Debian packages; CUDA, cuDNN and cuBLAS come from the device's.
for bin in "$bundle"/bin/*; do ldd "$bin"; done | awk '/libfmt|libz\./ {print $3}' | sort -u |
  xargs -r cp -L -t "$bundle/lib/"
cp /usr/share/datasets/fashion-mnist/*.gz "$bundle/data/"
chmod -R u+w "$bundle"
du -sh "$bundle"
