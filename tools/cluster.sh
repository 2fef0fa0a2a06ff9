#!/usr/bin/env bash
# A local cluster on loopback: a throw-away PostgreSQL (tools/postgres.sh), an issuer simulator and N
# `payswitch serve` nodes whose storage is that database (`cluster:`): claims, journal and the
# store-and-forward queue shared, one data key.
#   tools/cluster.sh up N [DIR]              start (DIR default /tmp/payswitch-cluster); prints each node's POS port
#   tools/cluster.sh kill NODE [DIR]         kill -9 node NODE (1-based)
#   tools/cluster.sh restart NODE [DIR]      start node NODE again (after a kill)
#   tools/cluster.sh duplicates COUNT [DIR]  the same COUNT purchases sent to nodes 1 and 2 at once (two POS
#                                            simulators, one request at a time each); prints how many the issuer
#                                            got, approvals (a copy claimed once its request was answered gets that
#                                            answer) and duplicates (94); then sends them all again to node 2: each
#                                            gets its stored answer; fails unless each went out once
#   tools/cluster.sh takeover COUNT TRIALS [DIR]
#                                            per trial: the issuer stopped (SIGSTOP), COUNT purchases sent to the
#                                            node that sends the issuer's queue time out there and leave COUNT
#                                            reversals queued; that node is killed (kill -9) and the issuer resumed;
#                                            prints when a survivor's first reversal was acknowledged after the kill,
#                                            when all were, and the repeats the issuer counted; fails unless each
#                                            reversal was acknowledged and reached the issuer; the node rejoins after
#   tools/cluster.sh inflight COUNT [DIR]    the issuer stopped, COUNT purchases sent to node 1 and node 1 killed
#                                            while they are in flight (forwarded, unanswered); the issuer resumed:
#                                            a survivor adopts node 1's claims, journals them and reverses each;
#                                            fails unless every purchase the issuer got is reversed; node 1 rejoins
#   tools/cluster.sh pgrestart DOWN [DIR]    purchases sent to node 2 (200/s for DOWN+6 s) while PostgreSQL is stopped
#                                            for DOWN seconds and started again: prints the answers (system errors
#                                            while it was down), how long after its start every request was
#                                            journalled (journal lag back to 0) and the reversals queued and
#                                            pending; fails unless every request was answered and journalled once
#   tools/cluster.sh sigstop COUNT [DIR]     COUNT reversals queued on the node sending the issuer's queue (the issuer
#                                            stopped), that node stopped (SIGSTOP) past its lease and grace, the
#                                            issuer resumed, a survivor sending them, the node resumed (SIGCONT) once
#                                            fenced: fails unless the issuer gets nothing more (every item was
#                                            acknowledged before: what came would be the node's) and the node stops
#                                            itself (fenced); it is started again
#   tools/cluster.sh scan [DIR]              Luhn-valid card numbers in a pg_dump of the database and in every log:
#                                            fails unless there are none
#   tools/cluster.sh bench SECONDS [DIR]     the same closed-loop load (sim pos, CONNECTIONS x WINDOW, default 8 x 16) for SECONDS on
#                                            node 1 (claims, journal and queue in PostgreSQL) and on a node of the same
#                                            configuration without storage or cluster: both throughputs, their ratio,
#                                            and the claims' wait (p50/p99 from node 1's histogram, queueing included)
#   tools/cluster.sh down [DIR]              stop everything and remove DIR
# PAYSWITCH_BIN: the payswitch to run (default: the debug build).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
command_name="${1:-}"
case "$command_name" in
  up|duplicates|kill|restart|inflight|pgrestart|sigstop|bench) dir="${3:-/tmp/payswitch-cluster}" ;;
  takeover) dir="${4:-/tmp/payswitch-cluster}" ;;
  down|scan) dir="${2:-/tmp/payswitch-cluster}" ;;
  *) echo "usage: $0 up N | kill NODE | restart NODE | duplicates COUNT | takeover COUNT TRIALS | down [DIR]" >&2; exit 2 ;;
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
running() {  # PID: alive, and not a zombie left for an init that does not reap
  state=$(ps -o stat= -p "$1" 2>/dev/null || true)
  [ -n "$state" ] && [ "${state#Z}" = "$state" ]
}
start_node() {  # NODE: serve with its configuration, wait for its POS port
  if [ -f "$dir/node$1/pid" ] && running "$(cat "$dir/node$1/pid")"; then echo "cluster: node$1 runs" >&2; return 1; fi
  "$bin" serve --config "$dir/node$1/switch.yaml" >"$dir/node$1/serve.out" 2>>"$dir/node$1/serve.log" &
  echo $! >"$dir/node$1/pid"
  disown  # killed on purpose by kill and takeover: no job notice
  wait_port "$(cat "$dir/node$1/port")"
}
sql() { psql "$(cat "$dir/url")" -Atq -c "$1"; }
now_ms() { date +%s%3N; }
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
    echo "$port" >"$dir/node$node/port"
    cat >"$dir/node$node/switch.yaml" <<YAML
name: node$node
rules: ../rules.yaml
listeners:
  - {name: pos, address: "127.0.0.1:$port", framing: bin2, protocol: iso8583, dialect: iso87ascii}
channels:
  - {name: issuer, addresses: ["127.0.0.1:$issuer_port"], framing: bin2, protocol: iso8583, dialect: iso87ascii, request-timeout: 2s}
storage: {path: "$url", key-file: ../data.key}
cluster: {node: node$node, lease: 3s}
admin: "127.0.0.1:$(free_port)"
YAML
    start_node "$node"
    echo "node$node: POS port $port"
  done
  sleep 1  # the channels sign on
  ;;
kill)
  node="${2:?usage: $0 kill NODE [DIR]}"
  kill -9 "$(cat "$dir/node$node/pid")"
  echo "node$node killed"
  ;;
restart)
  start_node "${2:?usage: $0 restart NODE [DIR]}"
  ;;
bench)
  seconds="${2:?usage: $0 bench SECONDS [DIR]}"
  # The baseline: node 1's configuration without storage, cluster or admin endpoint.
  mkdir -p "$dir/base"
  base_port=$(free_port)
  grep -v '^storage:\|^cluster:\|^admin:' "$dir/node1/switch.yaml" | sed "s/127.0.0.1:$(cat "$dir/node1/port")/127.0.0.1:$base_port/; s/^name: node1/name: base/" \
    >"$dir/base/switch.yaml"
  "$bin" serve --config "$dir/base/switch.yaml" >"$dir/base/serve.out" 2>"$dir/base/serve.log" &
  base_pid=$!
  disown
  trap 'kill "$base_pid" 2>/dev/null || true' EXIT
  wait_port "$base_port"
  sleep 1  # its channel signs on
  load() {  # PORT NAME
    "$bin" sim pos --port "$1" --spec iso87ascii --template "$(template "B$(date +%s%N | tail -c 8)")" \
      --connections "${CONNECTIONS:-8}" --window "${WINDOW:-16}" \
      --seconds "$seconds" --timeout-ms 10000 --quiet --json >"$dir/bench-$2.json" 2>"$dir/bench-$2.log" || true
  }
  load "$(cat "$dir/node1/port")" cluster
  load "$base_port" base
  admin=$(sed -n 's/^admin: "\(.*\)"$/\1/p' "$dir/node1/switch.yaml")
  curl -s "http://$admin/metrics" | grep '^payswitch_cluster_claim_seconds' >"$dir/bench-claims.txt" || true
  python3 - "$dir" <<'PY'
import json, re, sys
directory = sys.argv[1]
def report(name):
    document = json.load(open(f"{directory}/bench-{name}.json"))
    return document["answersPerSecond"], document["codes"], document["latencyMicroseconds"]["p99"] / 1000
cluster, base = report("cluster"), report("base")
buckets, count = [], 0
for line in open(f"{directory}/bench-claims.txt"):
    match = re.match(r'payswitch_cluster_claim_seconds_bucket\{le="([^"]+)"\} (\S+)', line)
    if match and match.group(1) != "+Inf":
        buckets.append((float(match.group(1)), float(match.group(2))))
    match = re.match(r'payswitch_cluster_claim_seconds_count (\S+)', line)
    if match:
        count = float(match.group(1))
def percentile(fraction):
    return next((f"<= {bound * 1000:g} ms" for bound, cumulative in sorted(buckets) if count and cumulative >= fraction * count), "> 10 s")
print(f"bench: node 1 (claims, journal and queue in PostgreSQL) {cluster[0]:.0f} answers/s (p99 {cluster[2]:.1f} ms, codes {cluster[1]}); "
      f"the same node without storage or cluster {base[0]:.0f}/s (p99 {base[2]:.1f} ms): {100 * cluster[0] / base[0]:.0f} %; "
      f"claims {count:.0f}, wait p50 {percentile(0.5)}, p99 {percentile(0.99)}")
PY
  kill "$base_pid" 2>/dev/null || true
  ;;
sigstop)
  requests="${2:?usage: $0 sigstop COUNT [DIR]}"
  issuer=$(cat "$dir/issuer.pid")
  holder=$(sql "SELECT owner FROM saf_host WHERE host = 'issuer' AND lease_until > now()" | sed 's/^node//')
  [ -n "$holder" ] || { echo "sigstop: no node sends the issuer's queue" >&2; exit 1; }
  holder_pid=$(cat "$dir/node$holder/pid")
  trap 'kill -CONT "$issuer" "$holder_pid" 2>/dev/null || true' EXIT
  reversals_received() { python3 -c 'import json,sys; print(sum(1 for l in open(sys.argv[1]) if json.loads(l).get("message") in ("0400","0401","0420","0421")))' "$dir/issuer.jsonl"; }
  first_id=$(sql "SELECT coalesce(max(id), 0) FROM forward")
  kill -STOP "$issuer"
  "$bin" sim pos --port "$(cat "$dir/node$holder/port")" --spec iso87ascii --template "$(template "S$(date +%s%N | tail -c 8)")" \
    --connections 10 --window $(( (requests + 9) / 10 )) --count "$requests" --timeout-ms 10000 --quiet --json >"$dir/sigstop-pos.json" 2>&1 || true
  for _ in $(seq 1 100); do
    [ "$(sql "SELECT count(*) FROM forward WHERE id > $first_id AND state = 'pending'")" -ge "$requests" ] && break; sleep 0.1
  done
  kill -STOP "$holder_pid"
  stopped=$(now_ms)
  kill -CONT "$issuer"
  for _ in $(seq 1 300); do
    [ "$(sql "SELECT count(*) FROM forward WHERE id > $first_id AND state = 'pending'")" -eq 0 ] && break; sleep 0.1
  done
  acknowledged=$(( $(now_ms) - stopped ))
  # Stopped past its lease and the grace: until a survivor fenced it (at most 15 s).
  for _ in $(seq 1 150); do
    [ "$(sql "SELECT state FROM node WHERE id = 'node$holder'")" = dead ] && break; sleep 0.1
  done
  fenced_after=$(( $(now_ms) - stopped ))
  sleep 0.5  # the issuer's record is written off its queues
  before=$(reversals_received)
  kill -CONT "$holder_pid"
  sleep 3  # its timers fire: a queue it thinks it holds, an answer it waits for; it sees it was fenced and stops
  after=$(reversals_received)
  stopped_itself=$(grep -c "this node was fenced: it stops now" "$dir/node$holder/serve.log" || true)
  running "$holder_pid" && stopped_itself=0
  start_node "$holder"
  counts=$(sql "SELECT count(*), count(*) FILTER (WHERE state = 'acknowledged'), 0 FROM forward WHERE id > $first_id")
  fenced=$(grep -c "this node was fenced" "$dir/node$holder/serve.log" || true)
  python3 - "$holder" "$before" "$after" "$acknowledged" "$counts" "$stopped_itself" "$fenced_after" <<'PY'
import sys
holder, before, after, acknowledged, counts, fenced, fenced_after = sys.argv[1:8]
total, done, adopted = (int(value) for value in counts.split("|"))
sent_after = int(after) - int(before)
ok = sent_after == 0 and total == done and total > 0 and int(fenced) > 0
print(f"sigstop: node{holder} stopped with {total} reversals queued; a survivor sent them once its hold ran out, all {done} "
      f"acknowledged {int(acknowledged) / 1000:.2f} s after the stop; node{holder} fenced {int(fenced_after) / 1000:.2f} s after "
      f"the stop; resumed, it sent {sent_after} and {'stopped itself, fenced' if int(fenced) else 'did not stop'}"
      + ("" if ok else " FAILED"))
sys.exit(0 if ok else 1)
PY
  ;;
scan)
  "$root/tools/postgres.sh" dump "$dir/pg" >"$dir/dump.sql"
  python3 "$root/tools/card_scan.py" "$dir/dump.sql" "$dir"/node*/serve.log "$dir"/node*/serve.out "$dir/issuer.log" "$dir/issuer.jsonl"
  ;;
pgrestart)
  down_seconds="${2:?usage: $0 pgrestart DOWN [DIR]}"
  since=$(now_ms)
  seconds=$(( down_seconds + 6 ))
  "$bin" sim pos --port "$(cat "$dir/node2/port")" --spec iso87ascii --template "$(template "R$(date +%s%N | tail -c 8)")" --connections 4 \
    --rate 200 --seconds "$seconds" --timeout-ms 30000 --quiet --json >"$dir/pgrestart-pos.json" 2>&1 &
  pos=$!
  sleep 2
  "$root/tools/postgres.sh" halt "$dir/pg"
  sleep "$down_seconds"
  "$root/tools/postgres.sh" resume "$dir/pg"
  started=$(now_ms)
  wait "$pos" || true
  load_end=$(( $(now_ms) - started ))
  sent=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["counts"]["sent"])' "$dir/pgrestart-pos.json")
  lag="never"
  for _ in $(seq 1 300); do
    journalled=$(sql "SELECT coalesce(sum(count), 0) FROM journal_block WHERE last_started >= $since")
    [ "$journalled" -ge "$sent" ] && { lag=$(( $(now_ms) - started )); break; }
    sleep 0.1
  done
  python3 - "$dir/pgrestart-pos.json" "$down_seconds" "$lag" "$journalled" "$load_end" "$(sql "SELECT count(*), count(*) FILTER (WHERE state = 'pending') FROM forward WHERE created >= $since")" <<'PY'
import json, sys
report, down, lag, journalled, load_end, forwards = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5], sys.argv[6]
counts, codes = report["counts"], report["codes"]
queued, pending = (int(value) for value in forwards.split("|"))
answered = counts["matched"]
ok = answered == counts["sent"] and journalled == counts["sent"] and lag != "never"
print(f"PostgreSQL stopped for {down} s under load: {counts['sent']} sent, {answered} answered ({codes}), "
      f"{counts['timedOut']} timed out; journal lag 0 (all {journalled} journalled) {lag} ms after the server started, the load "
      f"having gone on to {load_end} ms; "
      f"reversals queued {queued}, pending {pending}" + ("" if ok else " FAILED"))
sys.exit(0 if ok else 1)
PY
  ;;
inflight)
  requests="${2:?usage: $0 inflight COUNT [DIR]}"
  issuer=$(cat "$dir/issuer.pid")
  trap 'kill -CONT "$issuer" 2>/dev/null || true' EXIT
  before_issuer=$(wc -l <"$dir/issuer.jsonl" 2>/dev/null || echo 0)
  first_id=$(sql "SELECT coalesce(max(id), 0) FROM forward")
  since=$(sql "SELECT now()")
  kill -STOP "$issuer"
  terminal="F$(date +%s%N | tail -c 8)"
  "$bin" sim pos --port "$(cat "$dir/node1/port")" --spec iso87ascii --template "$(template "$terminal")" --connections 10 \
    --window $(( (requests + 9) / 10 )) --count "$requests" --timeout-ms 10000 --quiet --json >"$dir/inflight-pos.json" 2>&1 &
  pos=$!
  for _ in $(seq 1 100); do
    [ "$(sql "SELECT count(*) FROM claim WHERE node = 'node1' AND claimed_at >= '$since'")" -ge "$requests" ] && break; sleep 0.02
  done
  sleep 0.2  # their claim blocks written, the requests sent
  kill -9 "$(cat "$dir/node1/pid")"
  kill -CONT "$issuer"
  wait "$pos" || true
  for _ in $(seq 1 300); do
    # One query: the survivor's reversals are written at once, between two queries they could appear.
    [ "$(sql "SELECT count(*) > 0 AND count(*) FILTER (WHERE state = 'pending') = 0 FROM forward WHERE id > $first_id")" = t ] && break
    sleep 0.1
  done
  sleep 0.5
  start_node 1
  python3 - "$dir" "$before_issuer" "$terminal" "$(sql "SELECT count(*), count(*) FILTER (WHERE state = 'acknowledged'),
      count(*) FILTER (WHERE owner <> 'node1') FROM forward WHERE id > $first_id AND kind = 'reversal'")" <<'PY'
import json, sys
directory, before, terminal, counts = sys.argv[1:5]
total, acknowledged, adopted = (int(value) for value in counts.split("|"))
with open(f"{directory}/issuer.jsonl") as record:
    lines = [json.loads(line) for line in record.readlines()[int(before):]]
purchases = {line.get("stan") for line in lines if line.get("message") == "0200"}
reversed_stans = {(line.get("original") or "")[4:10] for line in lines if line.get("message") in ("0400", "0401", "0420", "0421")}
missing = purchases - reversed_stans
ok = len(purchases) > 0 and not missing and acknowledged == total and adopted == total
print(f"in flight: node1 killed with requests forwarded and unanswered; the issuer got {len(purchases)} purchases, "
      f"a survivor queued {total} reversals ({acknowledged} acknowledged), {len(missing)} purchases left unreversed"
      + ("" if ok else " FAILED"))
sys.exit(0 if ok else 1)
PY
  ;;
takeover)
  requests="${2:?usage: $0 takeover COUNT TRIALS [DIR]}"
  trials="${3:?usage: $0 takeover COUNT TRIALS [DIR]}"
  issuer=$(cat "$dir/issuer.pid")
  trap 'kill -CONT "$issuer" 2>/dev/null || true' EXIT
  : >"$dir/takeover.txt"
  for trial in $(seq 1 "$trials"); do
    # The node that sends the issuer's queue (at most 10 s for one to take it).
    holder=""
    for _ in $(seq 1 100); do
      holder=$(sql "SELECT owner FROM saf_host WHERE host = 'issuer' AND lease_until > now()" | sed 's/^node//')
      [ -n "$holder" ] && break; sleep 0.1
    done
    [ -n "$holder" ] || { echo "takeover: no node sends the issuer's queue" >&2; exit 1; }
    before_issuer=$(wc -l <"$dir/issuer.jsonl" 2>/dev/null || echo 0)
    first_id=$(sql "SELECT coalesce(max(id), 0) FROM forward")
    kill -STOP "$issuer"
    template=$(template "K$(date +%s%N | tail -c 8)")
    "$bin" sim pos --port "$(cat "$dir/node$holder/port")" --spec iso87ascii --template "$template" --connections 10 \
      --window $(( (requests + 9) / 10 )) --count "$requests" --seed "$trial" --timeout-ms 10000 --quiet --json \
      >"$dir/takeover-pos.json" 2>"$dir/takeover-pos.log" || true
    queued=0
    for _ in $(seq 1 100); do
      queued=$(sql "SELECT count(*) FROM forward WHERE id > $first_id AND kind = 'reversal' AND state = 'pending'")
      [ "$queued" -ge "$requests" ] && break; sleep 0.1
    done
    kill -9 "$(cat "$dir/node$holder/pid")"
    killed=$(now_ms)
    kill -CONT "$issuer"
    for _ in $(seq 1 300); do
      [ "$(sql "SELECT count(*) FROM forward WHERE id > $first_id AND state = 'pending'")" -eq 0 ] && break; sleep 0.1
    done
    sleep 0.5  # the issuer's record is written off its queues
    start_node "$holder"
    python3 - "$dir" "$requests" "$queued" "$killed" "$before_issuer" "$holder" "$trial" \
      "$(sql "SELECT count(*), count(*) FILTER (WHERE state = 'acknowledged'), coalesce(min(acknowledged), 0), coalesce(max(acknowledged), 0),
              count(DISTINCT owner) FILTER (WHERE owner <> 'node$holder') FROM forward WHERE id > $first_id AND kind = 'reversal'")" <<'PY'
import json, sys
directory, requests, queued, killed, before, holder, trial, counts = sys.argv[1:9]
total, acknowledged, first, last, survivors = (int(value) for value in counts.split("|"))
requests, queued, killed = int(requests), int(queued), int(killed)
with open(f"{directory}/issuer.jsonl") as record:
    lines = [json.loads(line) for line in record.readlines()[int(before):]]
reversals = [line for line in lines if line.get("message") in ("0400", "0401", "0420", "0421")]
originals = {line.get("original") for line in reversals}
first_sends = {}
for line in reversals:
    if line.get("message") in ("0400", "0420"):
        first_sends[line.get("original")] = first_sends.get(line.get("original"), 0) + 1
most_first_sends = max(first_sends.values(), default=0)
first_after, all_after = (first - killed) / 1000, (last - killed) / 1000
ok = queued >= requests and total == requests and acknowledged == requests and len(originals) == requests and survivors >= 1 and most_first_sends <= 1
print(f"takeover trial {trial}: node{holder} killed with {queued} reversals queued; a survivor's first acknowledged "
      f"{first_after:.2f} s after the kill, all {acknowledged}/{total} {all_after:.2f} s after; the issuer got "
      f"{len(reversals)} reversal messages for {len(originals)} originals ({len(reversals) - len(originals)} counted repeats, "
      f"at most {most_first_sends} first send (0420) each)"
      + ("" if ok else " FAILED"))
with open(f"{directory}/takeover.txt", "a") as summary:
    summary.write(f"{first_after:.3f} {all_after:.3f} {int(ok)}\n")
sys.exit(0 if ok else 1)
PY
  done
  python3 - "$dir/takeover.txt" <<'PY'
import sys
rows = [line.split() for line in open(sys.argv[1])]
print(f"takeover: {len(rows)} trials, worst first acknowledgement {max(float(r[0]) for r in rows):.2f} s after the kill, "
      f"worst all acknowledged {max(float(r[1]) for r in rows):.2f} s, failed trials {sum(1 for r in rows if r[2] != '1')}")
sys.exit(0 if all(r[2] == '1' for r in rows) and max(float(r[0]) for r in rows) <= 3 else 1)
PY
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
  # Then all of them again, to node 2 (retransmissions of requests answered): each gets its stored answer.
  "$bin" sim pos --port "$(cat "$dir/node2/port")" --spec iso87ascii --template "$template" --connections 1 --window 1 \
    --count "$requests" --seed 1 --quiet --json >"$dir/duplicates-again.json" 2>"$dir/duplicates-again.log" || true
  sleep 1  # the issuer's record is written off its queues
  python3 - "$dir" "$requests" "$before" <<'PY'
import json, sys
directory, requests, before = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
again = json.load(open(f"{directory}/duplicates-again.json"))["codes"]
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
# A copy claimed after its request was answered gets that answer (an approval) instead of 94.
print(f"cluster duplicates: {requests} requests sent to two nodes at once: the issuer got {forwarded}, "
      f"approvals {approvals} (node 1 {won[0]}, node 2 {won[1]}; {approvals - requests} of them a copy given the stored answer), "
      f"duplicates (94) {duplicates}, other answers {sum(codes.values()) - approvals - duplicates}; "
      f"all sent again to node 2: {again.get('00', 0)} stored answers (approvals), other answers {sum(again.values()) - again.get('00', 0)}")
sys.exit(0 if forwarded == requests and approvals >= requests and approvals + duplicates == 2 * requests
         and again.get("00", 0) == requests else 1)
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
