#!/usr/bin/env bash
# POS simulator ceiling, release build, on 127.0.0.1 and bounded in time: the C epoll echo of
# ../shared/limit driven, in the same run, by the C load generator (the ceiling) and by
# `payswitch sim pos` (decoding and matching every answer). Prints both and their ratio.
# Shapes: CONNECTIONSxWINDOW, SECONDS each (default 3).
source "$(dirname "$0")/common.sh"
"$work/echo_issuer" 9321 >/dev/null 2>&1 &
echo_pid=$!
trap 'kill $echo_pid 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do (exec 3<>/dev/tcp/127.0.0.1/9321) 2>/dev/null && break; sleep 0.05; done

printf '%-28s %10s %8s %8s\n' "run" "msgs/s" "p50 µs" "p99 µs"
for shape in ${SHAPES:-"8x16" "64x4" "16x64"}; do
  conns=${shape%x*}; window=${shape#*x}
  c=$("$work/loadgen" 9321 "$conns" "$window" "$seconds" "$template" 66)
  s=$("$bin" sim pos --port 9321 --connections "$conns" --window "$window" --seconds "$seconds" --template "$template" \
        --quiet --json || true)
  ctps=$(echo "$c" | sed -n 's/.*tps=\([0-9]*\).*/\1/p')
  read -r stps sp50 sp99 pass <<<"$(echo "$s" | python3 -c 'import json,sys; r=json.load(sys.stdin); l=r["latencyMicroseconds"]; print(int(r["answersPerSecond"]), int(l["p50"]), int(l["p99"]), r["pass"])')"
  printf '%-28s %10s %8s %8s\n' "C load, C echo $shape" "$ctps" "$(echo "$c" | sed -n 's/.*p50_us=\([0-9]*\).*/\1/p')" \
    "$(echo "$c" | sed -n 's/.*p99_us=\([0-9]*\).*/\1/p')"
  printf '%-28s %10s %8s %8s\n' "sim pos, C echo $shape" "$stps" "$sp50" "$sp99"
  echo "  ratio $shape: sim pos $(( 100 * stps / ctps ))% of the C load generator; every answer matched: $pass"
done
