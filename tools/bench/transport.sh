#!/usr/bin/env bash
# Transport benchmark, release build, everything on 127.0.0.1 and bounded in time:
#  1. the C epoll echo (../shared/limit) driven by the C load generator: the ceiling;
#  2. `payswitch transport echo` driven by the same C load generator: plain ratio;
#  3. `payswitch transport echo` with TLS driven by `payswitch sim pos` with TLS;
#  4. 10,000 idle connections held by one payswitch process: memory per connection.
# Each load runs 8 connections x 16 in flight and 64 x 4, SECONDS each (default 3).
source "$(dirname "$0")/common.sh"
tools/make-test-certs.sh "$work/certs" >/dev/null
stan=66

start_echo() {  # port args...; waits until the port listens
  local port=$1; shift
  "$@" >/dev/null 2>&1 &
  pids+=($!)
  for _ in $(seq 1 100); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && return 0; sleep 0.05; done
  echo "server on $port did not start" >&2; return 1
}
tps() { sed -n 's/.*tps=\([0-9]*\).*/\1/p'; }

start_echo 9311 "$work/echo_issuer" 9311
start_echo 9312 "$bin" transport echo --port 9312 --framing bin2
start_echo 9313 "$bin" transport echo --port 9313 --framing bin2 --tls-cert "$work/certs/server.pem" --tls-key "$work/certs/server.key"

printf '%-34s %10s %8s %8s\n' "run" "msgs/s" "p50 µs" "p99 µs"
declare -A result
for shape in "8 16" "64 4"; do
  set -- $shape
  c=$("$work/loadgen" 9311 "$1" "$2" "$seconds" "$template" $stan)
  p=$("$work/loadgen" 9312 "$1" "$2" "$seconds" "$template" $stan)
  t=$("$bin" sim pos --port 9313 --connections "$1" --window "$2" --seconds "$seconds" --template "$template" --quiet --json \
        --tls-ca "$work/certs/ca.pem" 2>/dev/null | python3 -c 'import json,sys; r=json.load(sys.stdin); l=r["latencyMicroseconds"]; print("tps=%d p50_us=%d p99_us=%d" % (r["answersPerSecond"], l["p50"], l["p99"]))')
  for run in "C echo (limit), C load:$c" "payswitch echo, C load:$p" "payswitch echo TLS, payswitch load:$t"; do
    name=${run%%:*}; line=${run#*:}
    printf '%-34s %10s %8s %8s\n' "$name $1x$2" "$(echo "$line" | tps)" \
      "$(echo "$line" | sed -n 's/.*p50_us=\([0-9]*\).*/\1/p')" "$(echo "$line" | sed -n 's/.*p99_us=\([0-9]*\).*/\1/p')"
  done
  result[c$1]=$(echo "$c" | tps); result[p$1]=$(echo "$p" | tps); result[t$1]=$(echo "$t" | tps)
  echo "  ratio $1x$2: plain $(( 100 * ${result[p$1]} / ${result[c$1]} ))% of C, TLS $(( 100 * ${result[t$1]} / ${result[c$1]} ))% of C"
done

# Idle connections: RSS of the echo process before and after 10,000 connections.
idle=${IDLE_CONNECTIONS:-10000}
start_echo 9314 "$bin" transport echo --port 9314 --framing bin2
pid=${pids[-1]}
before=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)
python3 - "$idle" 9314 "$pid" "$before" <<'PY'
import socket, sys, time, resource
n, port, pid, before = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, n + 100), hard))
conns = []
for i in range(n):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    conns.append(s)
time.sleep(1.0)
after = int([l for l in open(f"/proc/{pid}/status") if l.startswith("VmRSS")][0].split()[1])
print(f"idle: {n} connections held; RSS {before} KiB -> {after} KiB; {(after - before) * 1024 / n / 1024:.2f} KiB per connection")
for s in conns: s.close()
PY
