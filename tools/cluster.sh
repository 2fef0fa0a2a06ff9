#!/usr/bin/env bash
# A local cluster on loopback: a throw-away PostgreSQL (tools/postgres.sh), an issuer simulator and N
# `payswitch serve` nodes that share their claims there (`cluster:`; each keeps its own SQLite storage).
#   tools/cluster.sh up N [DIR]              start (DIR default /tmp/payswitch-cluster); prints each node's POS port
#   tools/cluster.sh kill NODE [DIR]         kill -9 node NODE (1-based)
#   tools/cluster.sh duplicates COUNT [DIR]  the same COUNT purchases sent to nodes 1 and 2 at once (two POS
#                                            simulators, one request at a time each); prints how many the issuer
#                                            got, approvals and duplicates (94); fails unless each went out once
#   tools/cluster.sh down [DIR]              stop everything and remove DIR
# PAYSWITCH_BIN: the payswitch to run (default: the debug build).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
command_name="${1:-}"
case "$command_name" in
  up|duplicates|kill) dir="${3:-/tmp/payswitch-cluster}" ;;
  down) dir="${2:-/tmp/payswitch-cluster}" ;;
  *) echo "usage: $0 up N | kill NODE | duplicates COUNT | down [DIR]" >&2; exit 2 ;;
esac
if [ -n "${PAYSWITCH_BIN:-}" ]; then
  bin=$(realpath "$PAYSWITCH_BIN")
else
  (cd "$root" && swift build --product payswitch >/dev/null)
  bin=$(cd "$root" && swift build --show-bin-path)/payswitch
fi
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_port() {  # PORT: until something listens on 127.0.0.1:PORT (at most 10 s)
  for _ in $(seq 1 200); do (exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.05; done
  echo "cluster: nothing listens on $1" >&2; return 1
}
template() {  # TERMINAL: the reference 0200 with DE 41 replaced, as hex (claims outlive a run: new requests need a new originator)
  sample=$(od -An -v -tx1 "$root/conformance/frames/0200_default_ascii.bin" | tr -d ' \n')
  "$bin" iso8583 decode --spec iso87ascii --json --unmask --hex "$sample" \
    | python3 -c 'import json,sys; m=json.load(sys.stdin); m["fields"]["41"]=sys.argv[1]; print(json.dumps(m))' "$1" \
    | "$bin" iso8583 encode --spec iso87ascii
}

case "$command_name" in
up)
  count="${2:?usage: $0 up N [DIR]}"
  [ -e "$dir" ] && { echo "cluster: $dir exists (tools/cluster.sh down first)" >&2; exit 1; }
  mkdir -p "$dir"
  url=$("$root/tools/postgres.sh" start "$dir/pg")
  echo "$url" >"$dir/url"
  issuer_port=$(free_port)
  "$bin" sim issuer --port "$issuer_port" --spec iso87ascii --record "$dir/issuer.jsonl" >"$dir/issuer.log" 2>&1 &
  echo $! >"$dir/issuer.pid"
  wait_port "$issuer_port"
  printf 'channels: [issuer]\nrules: []\ndefault: {route: issuer}\n' >"$dir/rules.yaml"
  for node in $(seq 1 "$count"); do
    mkdir -p "$dir/node$node"
    port=$(free_port)
    cat >"$dir/node$node/switch.yaml" <<YAML
name: node$node
rules: ../rules.yaml
listeners:
  - {name: pos, address: "127.0.0.1:$port", framing: bin2, protocol: iso8583, dialect: iso87ascii}
channels:
  - {name: issuer, addresses: ["127.0.0.1:$issuer_port"], framing: bin2, protocol: iso8583, dialect: iso87ascii, request-timeout: 2s}
storage: {path: data/switch.sqlite, key-file: data/data.key}
cluster: {node: node$node, database: "$url", lease: 3s}
YAML
    "$bin" serve --config "$dir/node$node/switch.yaml" >"$dir/node$node/serve.out" 2>"$dir/node$node/serve.log" &
    echo $! >"$dir/node$node/pid"
    echo "$port" >"$dir/node$node/port"
    wait_port "$port"
    echo "node$node: POS port $port"
  done
  sleep 1  # the channels sign on
  ;;
kill)
  node="${2:?usage: $0 kill NODE [DIR]}"
  kill -9 "$(cat "$dir/node$node/pid")"
  echo "node$node killed"
  ;;
duplicates)
  requests="${2:?usage: $0 duplicates COUNT [DIR]}"
  before=$(wc -l <"$dir/issuer.jsonl" 2>/dev/null || echo 0)
  template=$(template "T$(date +%s | tail -c 8)")
  # The same template, seed and sequence: both simulators send the same requests (DE 7, 11, 32, 41).
  for node in 1 2; do
    "$bin" sim pos --port "$(cat "$dir/node$node/port")" --spec iso87ascii --template "$template" --connections 1 --window 1 \
      --count "$requests" --seed 1 --quiet --json >"$dir/duplicates-$node.json" 2>"$dir/duplicates-$node.log" &
    eval "pos$node=\$!"
  done
  wait "$pos1" "$pos2" || true
  sleep 1  # the issuer's record is written off its queues
  python3 - "$dir" "$requests" "$before" <<'PY'
import json, sys
directory, requests, before = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
codes, won = {}, []
for node in (1, 2):
    with open(f"{directory}/duplicates-{node}.json") as report:
        node_codes = json.load(report)["codes"]
    won.append(node_codes.get("00", 0))
    for code, count in node_codes.items():
        codes[code] = codes.get(code, 0) + count
with open(f"{directory}/issuer.jsonl") as record:
    lines = record.readlines()[before:]
forwarded = sum(1 for line in lines if json.loads(line).get("message") == "0200")
approvals, duplicates = codes.get("00", 0), codes.get("94", 0)
print(f"cluster duplicates: {requests} requests sent to two nodes at once: the issuer got {forwarded}, "
      f"approvals {approvals} (node 1 {won[0]}, node 2 {won[1]}), duplicates (94) {duplicates}, "
      f"other answers {sum(codes.values()) - approvals - duplicates}")
sys.exit(0 if forwarded == requests and approvals == requests and duplicates == requests else 1)
PY
  ;;
down)
  [ -d "$dir" ] || exit 0
  for pid_file in "$dir"/node*/pid "$dir/issuer.pid"; do
    [ -f "$pid_file" ] && { kill "$(cat "$pid_file")" 2>/dev/null || true; }
  done
  sleep 0.5
  "$root/tools/postgres.sh" stop "$dir/pg"
  rm -rf "$dir"
  ;;
esac
