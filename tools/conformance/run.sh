#!/usr/bin/env bash
# Runs every conformance suite (conformance/**/*.capture.yaml) against the switch, in one process:
# the switch on conformance/switch.yaml, an issuer simulator per channel, issuer-c left down so that
# the failover route is taken. Prints the PASS/FAIL table, writes JUnit XML, and exits non-zero
# when any session fails.
#
#   tools/conformance/run.sh                        # after `swift build`
#   PAYSWITCH_BIN=/path/to/payswitch JUNIT=out.xml tools/conformance/run.sh
#   tools/conformance/run.sh --filter "iso93ascii"  # extra arguments go to `payswitch replay`
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

bin="${PAYSWITCH_BIN:-.build/debug/payswitch}"
junit="${JUNIT:-/tmp/conformance-junit.xml}"

if [[ ! -x "$bin" ]]; then
    echo "run.sh: no payswitch binary at '$bin' (build it with 'swift build', or set PAYSWITCH_BIN)" >&2
    exit 2
fi

status=0
"$bin" replay conformance \
    --config conformance/switch.yaml \
    --down issuer-c \
    --as-fast-as-possible \
    --junit "$junit" \
    "$@" || status=$?

echo "JUnit XML: $junit"
if [[ $status -ne 0 ]]; then
    echo "run.sh: conformance FAILED (payswitch replay exited $status)" >&2
fi
exit "$status"
