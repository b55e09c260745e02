# Helpers the side-by-side comparisons share (bench/compare_*.sh source it from the repository root).

# The binary named by the variable $2 when it is set, else //tools:$1 built by bazel.
stratum_tool() {
  local name=$1 override=$2
  if [[ -n ${!override:-} ]]; then
    echo "${!override}"
  else
    bazel build "//tools:$name" >&2
    echo "bazel-bin/tools/$name"
  fi
}
stratum_bench() { stratum_tool bench STRATUM_BENCH; }
stratum_train() { stratum_tool train STRATUM_TRAIN; }

# The images/s of a summary line: //tools:bench's "net size batch mode <img/s> img/s ..." (of NET when
# given) or "<img/s> img/s <ms> ms/step" (bench/ort_bench.js).
images_per_s() {
  awk -v net="${1:-}" '$6 == "img/s" && (net == "" || $1 == net) { print $5 } $2 == "img/s" && NF == 4 { print $1 }' |
    tail -1
}

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# Runs the commands A and B (each prints images/s) alternately ROUNDS times, showing progress as LABEL, and
# prints A's median, B's median and the median of the per-round ratios A / B; fails, saying which, when a
# command fails or prints no number.
#   result=$(side_by_side LABEL ROUNDS A B) || exit 1
side_by_side() {
  local label=$1 rounds=$2 a=$3 b=$4 round x y
  local as=() bs=() ratios=()
  for ((round = 1; round <= rounds; ++round)); do
    echo "  $label: round $round/$rounds" >&2
    for side in a b; do
      local command=${!side} value
      if ! value=$(eval "$command") || ! [[ $value =~ ^[0-9.]+$ ]]; then
        echo "$label: this gave no images/s: $command" >&2
        return 1
      fi
      [[ $side == a ]] && x=$value || y=$value
    done
    as+=("$x") bs+=("$y")
    ratios+=("$(awk -v x="$x" -v y="$y" 'BEGIN { print x / y }')")
  done
  echo "$(printf '%s\n' "${as[@]}" | median) $(printf '%s\n' "${bs[@]}" | median) $(printf '%s\n' "${ratios[@]}" | median)"
}

# The first of $PYTHON, /usr/bin/python3 and python3 that imports torch; nothing when none does.
torch_python() {
  local candidate
  for candidate in ${PYTHON:-} /usr/bin/python3 python3; do
    if command -v "$candidate" >/dev/null && "$candidate" -c 'import torch' 2>/dev/null; then
      echo "$candidate"
      return
    fi
  done
}

# Prints what PyTorch computes with (bench/torch_nets.py --setup: version, threads, BLAS); on DEVICE cpu,
# fails unless that BLAS is OpenBLAS: on Debian's reference BLAS its linear layers run many times slower.
#   torch_setup PYTHON DEVICE || exit 1
torch_setup() {
  local setup
  setup=$("$1" bench/torch_nets.py --setup) || return 1
  echo "$setup"
  if [[ $2 == cpu && $setup != *openblas* ]]; then
    echo "PyTorch does not run on OpenBLAS (apt-get install libopenblas0-openmp): compare only against it" >&2
    return 1
  fi
}
