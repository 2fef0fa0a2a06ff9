#!/usr/bin/env bash
# Where `payswitch serve` spends its time on the plain pass-through path of tools/bench/switch.sh
# (run that first: it writes the configuration). The C load generator drives serve to the C echo
# issuer, CONNECTIONSxWINDOW (SHAPE, default 8x16) for SECONDS_PER_RUN (default 5), three times:
#  1. under `perf stat` with a uprobe on libc's malloc: allocations per transaction;
#  2. under `perf stat`: context switches and CPU time per transaction;
#  3. under `perf record -g`: the hottest symbols, written to $work/serve.perf.txt.
# CONFIG=journal profiles the same path with storage on (journal, claims) instead of plain.
# Needs perf, and root for the malloc uprobe.
source "$(dirname "$0")/common.sh"
seconds=${SECONDS_PER_RUN:-5}
shape=${SHAPE:-8x16}
conns=${shape%x*}; window=${shape#*x}
config="$work/switch-bench-${CONFIG:-plain}.yaml"
[ -f "$config" ] || { echo "run tools/bench/switch.sh first (it writes $config)" >&2; exit 1; }
template=$("$bin" iso8583 decode --spec iso87ascii --json --unmask --hex "$template" \
  | python3 -c 'import json,sys; m=json.load(sys.stdin); m["fields"]["39"]="00"; print(json.dumps(m))' \
  | "$bin" iso8583 encode --spec iso87ascii)
"$work/echo_issuer" 9331 >/dev/null 2>&1 &
pids+=($!)
wait_port 9331

serve_pid=
start_serve() {
  rm -f "$work/serve-profile.out"
  rm -rf "$work/switch-bench-journal"   # a fresh journal for each run
  "$bin" serve --config "$config" --log-level warning >"$work/serve-profile.out" 2>&1 &
  serve_pid=$!
  pids+=($serve_pid)
  wait_port 9340
  "$work/loadgen" 9340 "$conns" "$window" 0.5 "$template" 66 >/dev/null   # warm-up
}
stop_serve() { kill "$serve_pid"; wait "$serve_pid" 2>/dev/null || true; }
load() { "$work/loadgen" 9340 "$conns" "$window" "$seconds" "$template" 66; }
tps() { sed -n 's/.*tps=\([0-9]*\).*/\1/p'; }

# 1. Allocations: every call of libc's malloc counted by a uprobe (exact, unlike sampling; an
# LD_PRELOAD counter misses allocations the Swift runtime makes inside libswiftCore).
libc=$(ldd "$bin" | awk '/libc\.so\.6/ {print $3}')
perf probe -q -x "$libc" malloc 2>/dev/null || true   # probe_libc:malloc, kept for later runs
start_serve
perf stat -e probe_libc:malloc -p "$serve_pid" -o "$work/serve.malloc.txt" -- sleep "$seconds" &
stat_pid=$!
result=$(load)
wait $stat_pid || true
stop_serve
transactions=$(echo "$result" | sed -n "s/.*done=\([0-9]*\).*/\1/p")
mallocs=$(awk '/probe_libc:malloc/ {gsub(",","",$1); print $1}' "$work/serve.malloc.txt")
echo "allocations: $(( mallocs / transactions )) per transaction ($mallocs mallocs in $transactions transactions; $result)"

# 2. Context switches and CPU per transaction.
start_serve
perf stat -e task-clock,context-switches,cpu-migrations -p "$serve_pid" -o "$work/serve.stat.txt" -- sleep "$seconds" &
stat_pid=$!
result=$(load)
wait $stat_pid || true
stop_serve
transactions=$(echo "$result" | sed -n "s/.*done=\([0-9]*\).*/\1/p")
awk -v n="$transactions" '/task-clock/ {gsub(",","",$1); printf "CPU: %.1f µs of serve per transaction\n", $1 * 1000 / n}
  /context-switches/ {gsub(",","",$1); printf "context switches: %.2f per transaction\n", $1 / n}' "$work/serve.stat.txt"
echo "  ($result)"

# 3. Where the CPU goes.
start_serve
perf record -g -F 999 -p "$serve_pid" -o "$work/serve.perf.data" -- sleep "$seconds" 2>/dev/null &
record_pid=$!
load >/dev/null
wait $record_pid || true
stop_serve
perf report -i "$work/serve.perf.data" --no-children --sort symbol --stdio 2>/dev/null | grep -v '^$' > "$work/serve.perf.txt" || true
perf report -i "$work/serve.perf.data" --no-children --sort dso --stdio -g none 2>/dev/null | grep '%' | head -12
echo "hottest symbols (self time):"
perf report -i "$work/serve.perf.data" --no-children --sort symbol --stdio -g none 2>/dev/null | grep '%' | head -30
echo "call graphs in $work/serve.perf.txt"
