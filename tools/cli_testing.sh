# Shared by the command-line tests (sourced): expect_error MESSAGE COMMAND... runs the command and fails the
# test unless it fails with MESSAGE on standard error. Needs $out, a scratch folder.
expect_error() {
  local message=$1
  shift
  if "$@" >/dev/null 2>"$out/error.txt"; then
    echo "FAIL: $* succeeded"
    exit 1
  fi
  grep -q -- "$message" "$out/error.txt" || { echo "FAIL: $*: expected '$message' in:"; cat "$out/error.txt"; exit 1; }
}
