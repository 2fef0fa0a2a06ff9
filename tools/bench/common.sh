# Sourced by the benchmark scripts: paths, the release build of payswitch ($bin, or $PAYSWITCH_BIN) and the C tools of
# ../shared/limit ($work/echo_issuer, $work/relay, $work/loadgen), and the reference 0200 in iso87ascii as hex.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
limit=${LIMIT_DIR:-$root/../shared/limit}
seconds=${SECONDS_PER_RUN:-3}
work=$root/.build-bench
mkdir -p "$work"
cd "$root"

# PAYSWITCH_BIN=path runs another build of payswitch instead (say, a copy from before a change).
if [ -n "${PAYSWITCH_BIN:-}" ]; then
  bin=$(realpath "$PAYSWITCH_BIN")
else
  swift build -c release --product payswitch >/dev/null
  bin=$(swift build -c release --show-bin-path)/payswitch
fi
for tool in echo_issuer relay loadgen; do
  [ "$work/$tool" -nt "$limit/$tool.c" ] || gcc -O2 -o "$work/$tool" "$limit/$tool.c"
done
template=$(od -An -v -tx1 conformance/frames/0200_default_ascii.bin | tr -d ' \n')

# Servers the script starts (append their pids); all are stopped on exit.
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
# wait_port PORT: until something listens on 127.0.0.1:PORT (at most 10 s).
wait_port() {
  for _ in $(seq 1 200); do (exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.05; done
  echo "nothing listens on $1" >&2; return 1
}
