#!/usr/bin/env bash
# Chaos: proves "nothing lost" under faults, with real processes on 127.0.0.1 and bounded in time.
#
# POS simulators (iso87ascii) drive `payswitch serve`, which splits the traffic between two issuer
# simulators injecting drops, late answers, closes, garbage and stop-reading on purchases. Midway
# issuer B is restarted; later the switch is killed with SIGKILL and started again on the same
# storage, and the POS traffic resumes. When the store-and-forward queue has drained, the checker
# (tools/chaos_check.py) compares the POS reports, the journal (`payswitch journal query`) and the
# issuers' record files:
#   - every request a POS sent got exactly one answer, or was lost with a connection the POS saw close;
#     no answer went to the wrong terminal or request (mismatched, unexpected, late: 0);
#   - the journal's count per response code equals the POS's, but for answers the kill cut off
#     (journalled, then lost with the process: at most the POS's losses);
#   - every purchase the switch timed out, lost its link on, or was interrupted in has exactly one
#     reversal, acknowledged; the issuers saw each of those purchases' reversals, repeats aside;
#   - no clear card number in the journal database, the logs or the record files;
#   - day end: a cutover mid-load splits the run into two business dates, each transaction in exactly
#     one; `payswitch reconcile` matches issuer B's clearing file 100 %, and finds in issuer A's
#     exactly the four differences A injected (a dropped reversal, a changed amount, an extra row, a
#     duplicate), each in its own category; `payswitch recon totals --send` (0520) is in balance
#     with issuer B for each date.
#
# With --cluster the same run goes across two `payswitch serve` nodes sharing one PostgreSQL
# (tools/postgres.sh; claims, journal and store-and-forward queue shared): each POS process drives
# its own node, node 1 is the one killed with SIGKILL and it rejoins for phase 2; node 2 serves
# throughout; the same checks hold over the cluster's one journal.
# Usage: tools/chaos.sh [--short] [--cluster]   (CHAOS_SECONDS: seconds of POS traffic per phase, default 45, --short 10;
#                                    CHAOS_RATE: requests per second per POS process, default 150;
#                                    PAYSWITCH_BIN: the payswitch to run, default the debug build)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
seconds=${CHAOS_SECONDS:-45}
cluster=false
for argument in "$@"; do
  case "$argument" in
    --short) seconds=${CHAOS_SECONDS:-10} ;;
    --cluster) cluster=true ;;
    *) echo "usage: $0 [--short] [--cluster]" >&2; exit 2 ;;
  esac
done
rate=${CHAOS_RATE:-150}
if [ -n "${PAYSWITCH_BIN:-}" ]; then
  bin=$(realpath "$PAYSWITCH_BIN")
else
  swift build --product payswitch >/dev/null
  bin=$(swift build --show-bin-path)/payswitch
fi
work=$(mktemp -d /tmp/payswitch-chaos.XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true
  if $cluster; then "$root/tools/postgres.sh" stop "$pg"; fi
}
trap cleanup EXIT
wait_port() {  # PORT: until something listens on 127.0.0.1:PORT (at most 10 s)
  for _ in $(seq 1 200); do (exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.05; done
  echo "chaos: nothing listens on $1" >&2; return 1
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
issuer_a=$(free_port) issuer_b=$(free_port) pos_port=$(free_port) admin_port=$(free_port) pos_port_2=$(free_port) admin_port_2=$(free_port)
storage="{path: data/switch.sqlite, key-file: data/data.key}"
if $cluster; then
  # Beside the run's folder, not in it: the server runs as another user, and the folder is its owner's alone.
  pg=$(mktemp -u /tmp/payswitch-chaos-pg.XXXXXX)
  storage="{path: \"$("$root/tools/postgres.sh" start "$pg")\", key-file: data/data.key}"
fi
# The business day turns about halfway through the first phase.
cutover=$(date -u -d "+$((seconds / 2 + 3)) seconds" +%H:%M:%S)

cat >"$work/faults.yaml" <<'YAML'
# Faults on purchases only: reversals are acknowledged, so each can be counted once.
latency: {distribution: uniform, minMs: 1, maxMs: 4}
faults: {drop: 0.01, late: 0.01, close: 0.001, garbage: 0.002, stopReading: 0.0005}
faultsOn: ["0200"]
lateMs: 1500
YAML
cat >"$work/rules.yaml" <<'YAML'
channels: [issuer-a, issuer-b]
rules: []
default: {split: {issuer-a: 50, issuer-b: 50}}
YAML
configuration() {  # node POS-port admin-port: a node's configuration (node 1's is switch.yaml)
  cat <<YAML
name: chaos$1
rules: rules.yaml
listeners:
  - {name: pos, address: "127.0.0.1:$2", framing: bin2, protocol: iso8583, dialect: iso87ascii}
channels:
  - {name: issuer-a, addresses: ["127.0.0.1:$issuer_a"], framing: bin2, protocol: iso8583, dialect: iso87binary,
     request-timeout: 1s, echo-interval: 1s, missed-echoes: 2, forward-retry: 200ms, forward-retry-max: 2s}
  - {name: issuer-b, addresses: ["127.0.0.1:$issuer_b"], framing: bin2, protocol: iso8583, dialect: iso87ascii,
     request-timeout: 1s, echo-interval: 1s, missed-echoes: 2, forward-retry: 200ms, forward-retry-max: 2s}
health: {open-for: 1s}
business-day: {cutover: "$cutover"}
admin: "127.0.0.1:$3"
storage: $storage
YAML
  if $cluster; then echo "cluster: {node: node$1, lease: 3s}"; fi
}
configuration 1 "$pos_port" "$admin_port" >"$work/switch.yaml"
configuration 2 "$pos_port_2" "$admin_port_2" >"$work/switch-2.yaml"

issuer() {  # name port spec incarnation [differences to inject...]
  "$bin" sim issuer --port "$2" --spec "$3" --loops 1 --rules "$work/faults.yaml" --record "$work/issuer-$1-$4.jsonl" \
    --clearing-file "$work/clearing-$1.csv" "${@:5}" >>"$work/issuer-$1.log" 2>&1 &
  echo $!
}
serve() {  # [node]: node 1 by default
  if [ "${1:-1}" = 1 ]; then
    "$bin" serve --config "$work/switch.yaml" >>"$work/serve.out" 2>>"$work/serve.log" &
  else
    "$bin" serve --config "$work/switch-$1.yaml" >>"$work/serve-$1.out" 2>>"$work/serve-$1.log" &
  fi
  echo $!
}
# Each POS process is its own terminal (DE 41), so their STANs never make duplicates of each other.
sample=$(od -An -v -tx1 conformance/frames/0200_default_ascii.bin | tr -d ' \n')
template() {  # terminal id: the reference 0200 with DE 41 replaced, as hex
  "$bin" iso8583 decode --spec iso87ascii --json --unmask --hex "$sample" \
    | python3 -c 'import json,sys; m=json.load(sys.stdin); m["fields"]["41"]=sys.argv[1]; print(json.dumps(m))' "$1" \
    | "$bin" iso8583 encode --spec iso87ascii
}
"$bin" iso8583 decode --spec iso87ascii --json --unmask --hex "$sample" | python3 -c 'import json,sys; print(json.load(sys.stdin)["fields"]["2"])' >"$work/pans.txt"
pos() {  # phase index: in a cluster, process 2 drives node 2
  port=$pos_port
  if $cluster && [ "$2" = 2 ]; then port=$pos_port_2; fi
  "$bin" sim pos --port "$port" --spec iso87ascii --template "$(template "TERM00$1$2")" --connections 2 --rate "$rate" \
    --seconds "$seconds" --timeout-ms 5000 --seed "$1$2" --quiet --json >"$work/pos-$1-$2.json" 2>>"$work/pos.log" || true
}

start_switch() {  # starts serve and waits until it listens and its channels have signed on
  switch=$(serve); pids+=("$switch")
  wait_port "$pos_port"
  sleep 1
}
start_phase() {  # phase: two POS processes in the background, their pids in p1 and p2
  pos "$1" 1 & p1=$!
  pos "$1" 2 & p2=$!
}

a=$(issuer a "$issuer_a" iso87binary 1 --drop-reversals 1 --change-amounts 1 --duplicate-rows 1 --extra-rows 1); pids+=("$a")
b=$(issuer b "$issuer_b" iso87ascii 1); pids+=("$b")
wait_port "$issuer_a"; wait_port "$issuer_b"
if $cluster; then
  node2=$(serve 2); pids+=("$node2")
  wait_port "$pos_port_2"
  echo "chaos: a cluster of two nodes on one PostgreSQL; node 1 is the one killed, node 2 serves throughout"
fi
start_switch
echo "chaos: phase 1, ${seconds}s of POS traffic (2 processes x $rate/s); issuer B restarts, then the switch is killed"
start_phase 1
sleep $((seconds / 3))
kill "$b"; wait "$b" 2>/dev/null || true
sleep 1
b=$(issuer b "$issuer_b" iso87ascii 2); pids+=("$b")
sleep $((seconds / 3))
kill -9 "$switch"; wait "$switch" 2>/dev/null || true
echo "chaos: switch killed with SIGKILL"
wait "$p1" "$p2"
start_switch
echo "chaos: phase 2, ${seconds}s of POS traffic after the restart"
start_phase 2
wait "$p1" "$p2"
echo "chaos: waiting for the store-and-forward queue to drain"
for _ in $(seq 1 120); do
  pending=$("$bin" journal query --config "$work/switch.yaml" --format json --limit 10000000 \
    | python3 -c 'import json,sys; print(sum(1 for l in sys.stdin if json.loads(l).get("forwardState") == "pending"))')
  [ "$pending" = 0 ] && break
  sleep 0.5
done
kill "$switch"; wait "$switch" 2>/dev/null || true
if $cluster; then kill "$node2"; wait "$node2" 2>/dev/null || true; fi
"$bin" journal query --config "$work/switch.yaml" --format json --limit 10000000 >"$work/journal.jsonl"
echo "chaos: day end (cutover at $cutover UTC): reconciliation with each issuer's clearing file, and 0520 totals"
dates=$(python3 -c 'import json,sys; print(" ".join(sorted({json.loads(l).get("businessDate") or "-" for l in open(sys.argv[1])})))' "$work/journal.jsonl")
for name in a b; do
  for day in $dates; do
    "$bin" reconcile "$work/clearing-$name.csv" --config "$work/switch.yaml" --channel "issuer-$name" --date "$day" --format json \
      >"$work/reconcile-$name-$day.json" 2>>"$work/reconcile.log" || true
    "$bin" recon totals --config "$work/switch.yaml" --channel "issuer-$name" --date "$day" --send --format json \
      >"$work/totals-$name-$day.json" 2>>"$work/reconcile.log" || true
  done
done
kill "$a" "$b"; wait "$a" "$b" 2>/dev/null || true
if $cluster; then
  "$root/tools/postgres.sh" dump "$pg" >"$work/pg-dump.sql"
fi
if python3 tools/chaos_check.py "$work"; then
  rm -rf "$work"
else
  echo "chaos: the run's files are kept in $work"
  exit 1
fi
