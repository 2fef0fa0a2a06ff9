#!/usr/bin/env bash
# Runs every test from a fresh clone: set-up, the Swift test suite, the short chaos run (faults,
# an issuer restart and a SIGKILL of the switch; tools/chaos.sh), the same across two nodes sharing
# one PostgreSQL (one killed and rejoining), three switch nodes sharing one
# PostgreSQL given the same requests twice and their reversals' sender killed (tools/cluster.sh), the byte-compatibility check
# against pyiso8583 (an independent implementation, from PyPI), the conformance suites replayed
# through the switch and checked by oracles nobody here wrote (xmllint with the official XSDs,
# tshark's ISO 8583 dissector, jsonschema; tools/conformance), then the fuzz targets: every kept
# crasher and seed once, each target for FUZZ_SECONDS (default 30), and the pyiso8583 differential
# over what the ISO 8583 target found.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
swift build --build-tests
swift test --skip-build
payswitch="$(swift build --show-bin-path)/payswitch"
PAYSWITCH_BIN="$payswitch" tools/chaos.sh --short
PAYSWITCH_BIN="$payswitch" tools/chaos.sh --short --cluster
# Three nodes sharing one PostgreSQL: the same 1,000 requests sent to two of them, each forwarded once;
# three times, the node sending the issuer's 500 queued reversals killed, a survivor sending them;
# a node killed with 300 requests in flight, a survivor reversing each; PostgreSQL stopped 2 s under load; the
# sending node stopped (SIGSTOP) past its lease and resumed, sending nothing; no card number in a pg_dump or a log.
cluster_dir=$(mktemp -u /tmp/payswitch-cluster.XXXXXX)
trap 'PAYSWITCH_BIN="$payswitch" tools/cluster.sh down "$cluster_dir"' EXIT
PAYSWITCH_BIN="$payswitch" tools/cluster.sh up 3 "$cluster_dir"
PAYSWITCH_BIN="$payswitch" tools/cluster.sh duplicates 1000 "$cluster_dir"
PAYSWITCH_BIN="$payswitch" tools/cluster.sh takeover 500 3 "$cluster_dir"
PAYSWITCH_BIN="$payswitch" tools/cluster.sh inflight 300 "$cluster_dir"
PAYSWITCH_BIN="$payswitch" tools/cluster.sh pgrestart 2 "$cluster_dir"
PAYSWITCH_BIN="$payswitch" tools/cluster.sh sigstop 200 "$cluster_dir"
PAYSWITCH_BIN="$payswitch" tools/cluster.sh scan "$cluster_dir"
PAYSWITCH_BIN="$payswitch" tools/cluster.sh down "$cluster_dir"
PAYSWITCH_BIN="$payswitch" tools/interop/run.sh
PAYSWITCH_BIN="$payswitch" tools/interop/security.sh --count 25
PAYSWITCH_BIN="$payswitch" tools/conformance/run.sh
PAYSWITCH_BIN="$payswitch" tools/conformance/oracles.sh
tools/fuzz.sh regress
tools/fuzz.sh all "${FUZZ_SECONDS:-30}"
PAYSWITCH_BIN="$payswitch" tools/interop/run.sh --corpus Fuzz/.work/iso8583
