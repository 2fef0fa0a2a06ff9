#!/usr/bin/env bash
# Responder benchmark (issue 15), release build, on 127.0.0.1 and bounded in time. The C load generator of
# ../shared/limit drives, interleaved in one run and LOOPS times (default 2):
#  - the C epoll echo (the ceiling: no decoding),
#  - `payswitch transport echo` (our transport alone, no decoding),
#  - `payswitch sim issuer --spec iso87ascii` (decode, answer 0210 with DE 38/39, encode),
# at 8 connections x 16 in flight and 1 x 1 (SHAPES), with the 423-byte sample 0200, SECONDS_PER_RUN each
# (default 3), and the median ratios over the loops (1 x 1 swings a lot on a shared VM: use LOOPS=5).
# Then, for sim issuer at 8 x 16 (PROFILE=0 skips it; needs perf, and root for the malloc uprobe):
# allocations, CPU, context switches and migrations per answer.
source "$(dirname "$0")/common.sh"
loops=${LOOPS:-2}
stan=66
tps() { sed -n 's/.*tps=\([0-9]*\).*/\1/p'; }
p50() { sed -n 's/.*p50_us=\([0-9]*\).*/\1/p'; }
p99() { sed -n 's/.*p99_us=\([0-9]*\).*/\1/p'; }

"$work/echo_issuer" 9351 >/dev/null 2>&1 &
pids+=($!)
"$bin" transport echo --port 9352 --framing bin2 >/dev/null 2>&1 &
pids+=($!)
"$bin" sim issuer --port 9353 --spec iso87ascii >/dev/null 2>&1 &
sim_pid=$!
pids+=($sim_pid)
for port in 9351 9352 9353; do wait_port $port; done
for port in 9351 9352 9353; do "$work/loadgen" $port 8 16 0.5 "$template" $stan >/dev/null; done   # warm-up

declare -A ratios
printf '%-34s %10s %8s %8s\n' "run" "msgs/s" "p50 µs" "p99 µs"
for loop in $(seq 1 "$loops"); do
  for shape in ${SHAPES:-"8x16" "1x1"}; do
    conns=${shape%x*}; window=${shape#*x}
    c=$("$work/loadgen" 9351 "$conns" "$window" "$seconds" "$template" $stan)
    e=$("$work/loadgen" 9352 "$conns" "$window" "$seconds" "$template" $stan)
    s=$("$work/loadgen" 9353 "$conns" "$window" "$seconds" "$template" $stan)
    for run in "C echo:$c" "payswitch transport echo:$e" "payswitch sim issuer:$s"; do
      name=${run%%:*}; line=${run#*:}
      printf '%-34s %10s %8s %8s\n' "$name $shape" "$(echo "$line" | tps)" "$(echo "$line" | p50)" "$(echo "$line" | p99)"
    done
    ct=$(echo "$c" | tps); et=$(echo "$e" | tps); st=$(echo "$s" | tps)
    cp=$(echo "$c" | p50); ep=$(echo "$e" | p50); sp=$(echo "$s" | p50)
    echo "  loop $loop $shape: throughput transport echo $(( 100 * et / ct ))%, sim issuer $(( 100 * st / ct ))% of the C echo;" \
      "p50 transport echo $(python3 -c "print(f'{$ep/max($cp,1):.2f}')")x, sim issuer $(python3 -c "print(f'{$sp/max($cp,1):.2f}')")x the C echo's"
    ratios[$shape]+="$et/$ct $st/$ct $ep/$cp $sp/$cp;"
  done
done
# Medians over the loops (1 x 1 on this shared VM swings by 2x between runs: take several).
for shape in ${SHAPES:-"8x16" "1x1"}; do
  python3 - "$shape" "${ratios[$shape]}" <<'PY'
import statistics, sys
shape, rounds = sys.argv[1], [r.split() for r in sys.argv[2].split(";") if r]
def ratio(text):
    numerator, denominator = map(int, text.split("/"))
    return numerator / max(denominator, 1)
med = [statistics.median(ratio(r[i]) for r in rounds) for i in range(4)]
print(f"median of {len(rounds)} {shape}: throughput transport echo {med[0]:.0%}, sim issuer {med[1]:.0%} of the C echo; "
      f"p50 transport echo {med[2]:.2f}x, sim issuer {med[3]:.2f}x the C echo's")
PY
done

[ "${PROFILE:-1}" = 1 ] || exit 0
# Per answer, sim issuer at 8 x 16: every libc malloc counted by a uprobe (exact; an LD_PRELOAD counter misses
# the Swift runtime's own), then CPU time, context switches and migrations of the process.
libc=$(ldd "$bin" | awk '/libc\.so\.6/ {print $3}')
perf probe -q -x "$libc" malloc 2>/dev/null || true   # probe_libc:malloc, kept for later runs
per_answer() {  # perf events -> prints the perf output file after a run of load
  perf stat -e "$1" -p "$sim_pid" -o "$work/responder.stat.txt" -- sleep "$seconds" &
  local stat_pid=$!
  result=$("$work/loadgen" 9353 8 16 "$seconds" "$template" $stan)
  wait $stat_pid || true
  answers=$(echo "$result" | sed -n 's/.*done=\([0-9]*\).*/\1/p')
}
per_answer probe_libc:malloc
awk -v n="$answers" '/probe_libc:malloc/ {gsub(",","",$1); printf "sim issuer 8x16: %.2f allocations per answer (%d mallocs, %d answers)\n", $1 / n, $1, n}' \
  "$work/responder.stat.txt"
per_answer task-clock,context-switches,cpu-migrations
awk -v n="$answers" '/task-clock/ {gsub(",","",$1); printf "sim issuer 8x16: %.1f µs CPU per answer", $1 * 1000 / n}
  /context-switches/ {gsub(",","",$1); printf ", %.2f context switches", $1 / n}
  /cpu-migrations/ {gsub(",","",$1); printf ", %.3f migrations per answer\n", $1 / n}' "$work/responder.stat.txt"
