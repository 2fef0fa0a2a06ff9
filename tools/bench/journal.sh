#!/usr/bin/env bash
# The journal in PostgreSQL (issue 16, G5): the same RECORDS (default 20,000) written the switch's
# way (sealed blocks of 256, one row and one commit each) and as rows (one INSERT per record, each
# committed, on the first SINGLE records, default 2,000; UNNEST batches of 256; COPY FROM STDIN),
# in one run against a throw-away server (tools/postgres.sh, fsync on). Release build of the
# Benchmarks package's JournalWriteBench.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
records=${RECORDS:-20000}
single=${SINGLE:-2000}
work=$(mktemp -u /tmp/payswitch-journal.XXXXXX)
trap '"$root/tools/postgres.sh" stop "$work"' EXIT
swift build -c release --package-path "$root/Benchmarks" --product JournalWriteBench >/dev/null
bench=$(swift build -c release --package-path "$root/Benchmarks" --show-bin-path)/JournalWriteBench
url=$("$root/tools/postgres.sh" start "$work")
"$bench" "$url" "$records" "$single"
