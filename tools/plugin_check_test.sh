#!/usr/bin/env bash
# Runs the conformance suite for one plugin in test and grad modes: plugin_check_test.sh PLUGIN_CHECK NAME
set -euo pipefail
for mode in test grad; do
  "$1" --plugin="$2" --mode="$mode"
done
