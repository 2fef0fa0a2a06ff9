#!/usr/bin/env bash
# The whole test suite under AddressSanitizer (with LeakSanitizer) and under ThreadSanitizer, each in
# a build folder of its own; under ASan also the bad-TLS-connection test with 10,000 connections,
# which must leak nothing.
#   tools/sanitize.sh [address|thread|all]
set -euo pipefail
cd "$(dirname "$0")/.."
which="${1:-all}"
export SWIFT_BACKTRACE=enable=no

address() {
  swift build --build-tests --sanitize=address --scratch-path .build-asan
  export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:halt_on_error=1"
  export LSAN_OPTIONS="suppressions=$PWD/tools/sanitize/lsan.supp:print_suppressions=0"
  swift test --skip-build --sanitize=address --scratch-path .build-asan
  PAYSWITCH_BAD_TLS_CONNECTIONS=10000 swift test --skip-build --sanitize=address --scratch-path .build-asan \
    --filter garbageAfterTheHandshakeClosesWithATLSError
}

thread() {
  swift build --build-tests --sanitize=thread --scratch-path .build-tsan
  export TSAN_OPTIONS="halt_on_error=1:suppressions=$PWD/tools/sanitize/tsan.supp"
  swift test --skip-build --sanitize=thread --scratch-path .build-tsan
}

case "$which" in
  address) address ;;
  thread) thread ;;
  all) address; thread ;;
  *) echo "usage: tools/sanitize.sh [address|thread|all]" >&2; exit 2 ;;
esac
echo "sanitize: $which clean"
