#!/usr/bin/env bash
# Runs every test from a fresh clone: set-up, the Swift test suite, then the byte-compatibility
# check against pyiso8583 (an independent implementation, from PyPI).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
swift build --build-tests
swift test --skip-build
PAYSWITCH_BIN="$(swift build --show-bin-path)/payswitch" tools/interop/run.sh
