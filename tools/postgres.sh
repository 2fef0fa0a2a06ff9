#!/usr/bin/env bash
# A throw-away PostgreSQL server on loopback for tests, the cluster demo and benchmarks.
#   tools/postgres.sh start DIR [PORT]   initdb into DIR (new), start on 127.0.0.1:PORT (default: a free
#                                        port), print the connection URL on stdout and write it to DIR/url
#   tools/postgres.sh stop DIR           stop it (fast shutdown) and remove DIR
#   tools/postgres.sh halt DIR           stop it, keeping DIR (an outage)
#   tools/postgres.sh resume DIR         start it again on its port after halt
#   tools/postgres.sh dump DIR           its data as text (pg_dump --data-only) on stdout
# fsync stays on: the cluster's guarantees are measured against a durable server. The server runs as the
# `postgres` user when this runs as root (PostgreSQL refuses root). Installs Debian's postgresql when no
# server is found.
set -euo pipefail
command_name="${1:-}"
dir="${2:-}"
[ -n "$command_name" ] && [ -n "$dir" ] || { echo "usage: $0 start|stop|halt|resume|dump DIR [PORT]" >&2; exit 2; }

find_bin() {
  for candidate in "$(command -v "$1" 2>/dev/null || true)" /usr/lib/postgresql/*/bin/"$1"; do
    [ -n "$candidate" ] && [ -x "$candidate" ] && { echo "$candidate"; return 0; }
  done
  return 1
}

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start_server() {  # PORT: the server of DIR, on 127.0.0.1:PORT
  # The server outlives this script: it must not inherit the caller's descriptors (a caller that
  # waits for one of them to close, as Foundation's Process does, would wait for the server).
  for fd in /proc/$$/fd/*; do
    fd="${fd##*/}"
    [ "$fd" -gt 2 ] 2>/dev/null && eval "exec $fd>&-" 2>/dev/null || true
  done
  as_owner "$(find_bin pg_ctl)" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
    -o "-c listen_addresses=127.0.0.1 -c port=$1 -c unix_socket_directories=$dir -c fsync=on -c max_connections=100" \
    start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
}

case "$command_name" in
start)
  if ! find_bin initdb >/dev/null; then
    echo "postgres.sh: installing postgresql" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  fi
  initdb="$(find_bin initdb)"
  port="${3:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}"
  mkdir -p "$dir"
  [ "$(id -u)" -eq 0 ] && chown postgres "$dir"
  as_owner "$initdb" -D "$dir/data" -U payswitch --auth=trust -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; exit 1; }
  start_server "$port"
  as_owner "$(find_bin createdb)" -h 127.0.0.1 -p "$port" -U payswitch payswitch
  # Also in a file: a caller that reads stdout to its end would wait for the server too (it may
  # inherit the caller's pipe).
  echo "postgres://payswitch@127.0.0.1:$port/payswitch" | tee "$dir/url"
  ;;
halt)
  as_owner "$(find_bin pg_ctl)" -D "$dir/data" -m fast -w -t 30 stop >/dev/null
  ;;
resume)
  start_server "$(sed 's/.*:\([0-9]*\)\/.*/\1/' "$dir/url")"
  ;;
dump)
  "$(find_bin pg_dump)" --data-only "$(cat "$dir/url")"
  ;;
stop)
  [ -d "$dir/data" ] || exit 0
  as_owner "$(find_bin pg_ctl)" -D "$dir/data" -m fast -w -t 30 stop >/dev/null || true
  rm -rf "$dir"
  ;;
*)
  echo "usage: $0 start|stop|halt|resume|dump DIR [PORT]" >&2; exit 2
  ;;
esac
