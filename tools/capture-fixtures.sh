#!/usr/bin/env bash
# Regenerates the packet-capture fixtures of Tests/ConformanceTests/Captures with real tools.
#
# A tiny python3 client and server exchange two length-prefixed frames each way on port 19100
# (2-byte big-endian length + ASCII; no card data), in lock step (each frame answered before the
# next is sent) so every frame is one TCP segment and the expected chunk order is fixed:
#   client "HELLO-ONE", server "REPLY-ONE", client "HELLO-TWO", server "REPLY-TWO", then close.
# Each exchange is captured by one tool/format:
#   lo-ethernet-usec.pcap   tcpdump -i lo                               (Ethernet, microseconds)
#   any-sll.pcap            tcpdump -i any -y LINUX_SLL                 (Linux cooked v1)
#   any-sll2.pcap           tcpdump -i any -y LINUX_SLL2                (Linux cooked v2)
#   lo-ethernet-nsec.pcap   tcpdump --time-stamp-precision=nano -i lo   (nanosecond magic)
#   lo-dumpcap.pcapng       dumpcap -i lo                               (pcapng)
#   lo-ipv6.pcap            tcpdump -i lo, over [::1]
#   lo-ipv6.pcapng          dumpcap -i lo, over [::1]
#
# Needs root (packet capture) and: tcpdump, tshark/dumpcap, python3. On Debian:
#   echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
#   DEBIAN_FRONTEND=noninteractive apt-get install -y tcpdump tshark
# Usage: tools/capture-fixtures.sh [output-directory]   (default: Tests/ConformanceTests/Captures)
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$here/Tests/ConformanceTests/Captures}"
mkdir -p "$out"
port=19100
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cat > "$work/exchange.py" <<'PY'
import socket, struct, sys, threading

host = sys.argv[1]
port = int(sys.argv[2])
family = socket.AF_INET6 if ":" in host else socket.AF_INET

def frame(text):
    body = text.encode("ascii")
    return struct.pack(">H", len(body)) + body

def read_frame(conn):
    def exactly(n):
        data = b""
        while len(data) < n:
            part = conn.recv(n - len(data))
            if not part:
                raise EOFError("peer closed")
            data += part
        return data
    (length,) = struct.unpack(">H", exactly(2))
    return exactly(length).decode("ascii")

listener = socket.socket(family, socket.SOCK_STREAM)
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind((host, port))
listener.listen(1)

def serve():
    conn, _ = listener.accept()
    with conn:
        for reply in ("REPLY-ONE", "REPLY-TWO"):
            read_frame(conn)
            conn.sendall(frame(reply))   # one send per frame: one segment
        # Wait for the client's FIN so the close is orderly on both sides.
        conn.recv(1)

server = threading.Thread(target=serve)
server.start()
client = socket.socket(family, socket.SOCK_STREAM)
client.connect((host, port))
for request, expected in (("HELLO-ONE", "REPLY-ONE"), ("HELLO-TWO", "REPLY-TWO")):
    client.sendall(frame(request))
    assert read_frame(client) == expected
client.close()
server.join()
listener.close()
PY

# capture FILE HOST TOOL ARGS...: runs the capture tool, the exchange, then stops the tool cleanly.
capture() {
    local file="$1" host="$2"; shift 2
    rm -f "$out/$file"
    # tcpdump takes the filter as its last argument, dumpcap after -f.
    local filter_flag=()
    [ "$(basename "$1")" = dumpcap ] && filter_flag=(-f)
    "$@" -w "$out/$file" "${filter_flag[@]}" "tcp port $port" > "$work/tool.log" 2>&1 &
    local pid=$!
    # Wait until the tool has opened its capture (it says so on stderr).
    for _ in $(seq 1 50); do
        grep -qiE "listening|capturing" "$work/tool.log" && break
        sleep 0.1
    done
    sleep 0.5
    python3 "$work/exchange.py" "$host" "$port"
    sleep 0.5
    kill -INT "$pid"
    wait "$pid" || true
    # tcpdump writes as its own user after dropping root; hand the file back to whoever ran this.
    chown "$(id -u):$(id -g)" "$out/$file"
    chmod 644 "$out/$file"
    echo "$file: $(stat -c %s "$out/$file") bytes"
}

capture lo-ethernet-usec.pcap 127.0.0.1 tcpdump -U -i lo
capture any-sll.pcap          127.0.0.1 tcpdump -U -i any -y LINUX_SLL
capture any-sll2.pcap         127.0.0.1 tcpdump -U -i any -y LINUX_SLL2
capture lo-ethernet-nsec.pcap 127.0.0.1 tcpdump -U -i lo --time-stamp-precision=nano
capture lo-dumpcap.pcapng     127.0.0.1 dumpcap -q -i lo
capture lo-ipv6.pcap          ::1       tcpdump -U -i lo
capture lo-ipv6.pcapng        ::1       dumpcap -q -i lo
