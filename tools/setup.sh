#!/usr/bin/env bash
# Installs every Debian package Stratum needs. Idempotent: packages already present are skipped.
# Usage: tools/setup.sh            (as root, or with sudo available)
set -euo pipefail

packages=(
  bazel-bootstrap  # Bazel 4.2.3, the build system (WORKSPACE mode, offline)
  g++              # the C++17 compiler
  clang-format     # style check run by .ci/run
  clang            # clang 14: builds the fuzz targets (tools/fuzz.sh)
  libclang-rt-14-dev  # libFuzzer and clang's sanitizer runtimes
  libdnnl-dev      # oneDNN 2.6.3, the CPU plugin's kernels
  libfmt-dev       # formatting
  libgtest-dev     # GoogleTest
  libonnx-dev      # ONNX 1.12: model protobufs, checker, shape inference (onnx/)
  libprotobuf-dev  # protobuf, which ONNX's messages need
  libonnx-testdata # ONNX's backend node tests (onnx:node_test)
  zlib1g-dev       # reading the gzipped idx files
  libopenmpi-dev   # MPI: the data-parallel communicator (plugins/mpi)
  openmpi-bin      # mpirun, which starts data-parallel jobs and their tests
  dataset-fashion-mnist  # /usr/share/datasets/fashion-mnist
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages already installed"
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "setup: not root and no sudo; install as root: apt-get install ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q || { echo "setup: apt-get update failed (is a Debian mirror reachable?)" >&2; exit 1; }
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}" ||
  { echo "setup: apt-get install failed for: ${missing[*]}" >&2; exit 1; }
echo "setup: done"
