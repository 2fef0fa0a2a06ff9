#!/usr/bin/env bash
# Switch throughput, release build, everything on 127.0.0.1 and bounded in time. In one run, the C
# load generator of ../shared/limit (CONNECTIONS x WINDOW closed loop, SECONDS_PER_RUN each) drives:
#  1. the C relay to the C echo issuer: the reference (100 %);
#  2. `payswitch serve` to the same C echo issuer, plain TCP on both legs; then again with storage
#     on (journal, claims: every request claimed before it is forwarded and journalled before it is
#     answered, in SQLite), and the ratio of the two;
#  3. `payswitch sim issuer` directly (plain): what the issuer of run 4 answers on its own;
#  4. `payswitch serve` to `payswitch sim issuer` with TLS on the issuer leg (the load leg stays plain).
# The load and both issuers speak iso87ascii over bin2, like the switch's listener and channel, so
# runs 2 and 4 measure the same-dialect pass-through path (DE 11 rewritten in place, no re-encoding).
# Prints TPS, p50 and p99 for each and the ratio to the C relay, then checks from /metrics that the
# switch's answers came from the issuer (not declined by the switch itself).
# Usage: tools/bench/switch.sh   (SECONDS_PER_RUN=3, SHAPES="8x16", LOOPS= event loops of serve)
source "$(dirname "$0")/common.sh"
tools/make-test-certs.sh "$work/certs" >/dev/null

start() {  # port command...: starts a server (output in $work/PORT.log) and waits until the port listens
  local port=$1; shift
  "$@" >"$work/$port.log" 2>&1 &
  pids+=($!)
  wait_port "$port"
}

# The C echo only copies the frame and bumps the MTI, so its 0210 carries whatever DE 39 the request
# had. The switch reads an answer without DE 39 as a system error and its breaker would soon decline
# everything itself; so every run sends the reference 0200 with DE 39 = 00 added, and the echo's
# answer reads as an approval. The STAN (DE 11) stays at byte 66.
template=$("$bin" iso8583 decode --spec iso87ascii --json --unmask --hex "$template" \
  | python3 -c 'import json,sys; m=json.load(sys.stdin); m["fields"]["39"]="00"; print(json.dumps(m))' \
  | "$bin" iso8583 encode --spec iso87ascii)
stan=66

relay_port=9330 echo_port=9331 issuer_port=9332 issuer_tls_port=9333 serve_port=9340
start $echo_port "$work/echo_issuer" $echo_port
start $relay_port "$work/relay" $relay_port $echo_port
start $issuer_port "$bin" sim issuer --port $issuer_port --spec iso87ascii --framing bin2
start $issuer_tls_port "$bin" sim issuer --port $issuer_tls_port --spec iso87ascii --framing bin2 \
  --tls-cert "$work/certs/server.pem" --tls-key "$work/certs/server.key"

cat >"$work/switch-bench-rules.yaml" <<'EOF'
description: Benchmark - every request to the one issuer.
channels: [issuer]
rules: []
default: {route: issuer}
EOF
config() {  # name issuer-port [channel tls lines]: writes $work/switch-bench-NAME.yaml
  cat >"$work/switch-bench-$1.yaml" <<EOF
# Written by tools/bench/switch.sh: one plain listener, one channel, metrics on (admin).
name: bench-$1
rules: switch-bench-rules.yaml
${LOOPS:+loops: $LOOPS}
listeners:
  - {name: pos, address: "127.0.0.1:$serve_port", framing: bin2, protocol: iso8583, dialect: iso87ascii}
channels:
  - name: issuer
    addresses: ["127.0.0.1:$2"]
    framing: bin2
    protocol: iso8583
    dialect: iso87ascii
$3
admin: "127.0.0.1:0"
EOF
}
# The C echo answers an 0800 with an 0810 lacking DE 39, which is no sign-on acceptance: that
# channel does not sign on. sim issuer answers 0800 properly, so the TLS channel signs on (default).
config plain $echo_port "    sign-on: false"
config journal $echo_port "    sign-on: false
storage: {path: switch-bench-journal/switch.sqlite, key-file: switch-bench-journal/data.key}"
config tls $issuer_tls_port "    tls: {ca: certs/ca.pem, server-name: localhost}"

serve_pid=
serve_admin=
start_serve() {  # name: starts serve, waits for its listener and until /ready says the channel takes traffic
  local out="$work/serve-$1.out"
  "$bin" serve --config "$work/switch-bench-$1.yaml" --log-level warning >"$out" 2>"$work/serve-$1.err" &
  serve_pid=$!
  pids+=($serve_pid)
  for _ in $(seq 1 200); do
    serve_admin=$(sed -n 's/^admin endpoint on //p' "$out")
    [ -n "$serve_admin" ] && curl -sf "http://$serve_admin/ready" >/dev/null && return 0
    sleep 0.05
  done
  echo "serve ($1) not ready" >&2; return 1
}
stop_serve() {
  kill "$serve_pid"; wait "$serve_pid" 2>/dev/null || true
}
# Answers the switch sent, by channel (issuer: forwarded and answered by the host; -: by the switch itself).
answers() {
  curl -sf "http://$serve_admin/metrics" | python3 -c '
import re, sys
by = {}
for line in sys.stdin:
    m = re.match(r"payswitch_answers_total\{(.*)\} (\S+)", line)
    if m:
        labels = dict(re.findall(r"(\w+)=\"([^\"]*)\"", m.group(1)))
        key = "%s/%s" % (labels["channel"], labels["result"])
        by[key] = by.get(key, 0) + int(float(m.group(2)))
print(" ".join("%s=%d" % kv for kv in sorted(by.items())))'
}

field() { echo "$2" | sed -n "s/.*$1=\([0-9]*\).*/\1/p"; }
row() {  # name shape loadgen-output reference-tps
  local t; t=$(field tps "$3")
  printf '%-44s %9s %8s %8s %6s\n' "$1 $2" "$t" "$(field p50_us "$3")" "$(field p99_us "$3")" \
    "$(( 100 * t / $4 ))%"
}

printf '%-44s %9s %8s %8s %6s\n' "run (C load generator)" "TPS" "p50 µs" "p99 µs" "ratio"
for shape in ${SHAPES:-"8x16"}; do
  conns=${shape%x*}; window=${shape#*x}
  load() { "$work/loadgen" "$1" "$conns" "$window" "$seconds" "$template" $stan; }
  load $relay_port >/dev/null   # warm-up: connections, caches, CPU frequency
  relay=$(load $relay_port)
  ref=$(field tps "$relay")
  row "C relay -> C echo" "$shape" "$relay" "$ref"

  start_serve plain
  "$work/loadgen" $serve_port "$conns" "$window" 0.5 "$template" $stan >/dev/null   # warm-up
  plain=$(load $serve_port)
  row "serve -> C echo (plain, pass-through)" "$shape" "$plain" "$ref"
  echo "  answers: $(answers)"
  stop_serve

  rm -rf "$work/switch-bench-journal"
  start_serve journal
  "$work/loadgen" $serve_port "$conns" "$window" 0.5 "$template" $stan >/dev/null
  journal=$(load $serve_port)
  row "serve -> C echo (plain, journal on)" "$shape" "$journal" "$ref"
  echo "  answers: $(answers); journal on / off: $(( 100 * $(field tps "$journal") / $(field tps "$plain") ))%"
  stop_serve

  direct=$(load $issuer_port)
  row "sim issuer alone (plain)" "$shape" "$direct" "$ref"

  start_serve tls
  "$work/loadgen" $serve_port "$conns" "$window" 0.5 "$template" $stan >/dev/null
  tls=$(load $serve_port)
  row "serve -> sim issuer (TLS, pass-through)" "$shape" "$tls" "$ref"
  echo "  answers: $(answers)"
  stop_serve
done
