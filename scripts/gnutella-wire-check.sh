#!/usr/bin/env bash
# Checks that p2plab's Gnutella bytes are real Gnutella, as Wireshark's dissector reads them.
#
# Two servents talk on free loopback ports while tshark captures (the capture is read with
# Gnutella's dissector forced onto the first servent's port); one searches for the other's
# file. The capture must then hold the 0.6 handshake the second servent dials with, at least
# one Ping, Pong, Query and QueryHit, and every Query's speed field must carry the flags
# mark (bytes 80 00, which the dissector reads little-endian as 128). No Gnutella frame may
# decode as malformed — except the text handshake, which the dissector does not understand
# (PROTOCOLS.md §3).
#
# Needs tshark (Debian package `tshark`); installs it with apt-get when run as root.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v tshark >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        apt-get update -qq
        echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q tshark >/dev/null
    else
        echo "gnutella-wire-check: tshark is missing and cannot be installed here" >&2
        exit 1
    fi
fi

cargo build --release --quiet --bin p2plab
BIN="${CARGO_TARGET_DIR:-target}/release/p2plab"
WORK=$(mktemp -d)
export P2PLAB_RUNTIME_DIR="$WORK/run"
PIDS=()
status=1
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    if [ "$status" -ne 0 ]; then
        for log in "$WORK"/*.log; do
            [ -f "$log" ] && { echo "--- $(basename "$log")" >&2; cat "$log" >&2; }
        done
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

# The address after `marker` in a node's log, once the node has printed it.
address_in() {
    local log=$1 marker=$2
    for _ in $(seq 100); do
        addr=$(sed -n "s/.*$marker \([0-9.]*:[0-9]*\).*/\1/p" "$log" | head -1)
        [ -n "$addr" ] && { echo "$addr"; return; }
        sleep 0.1
    done
    echo "gnutella-wire-check: no '$marker' address in $(basename "$log")" >&2
    exit 1
}

mkdir -p "$WORK/a" "$WORK/b"
echo "a song that is on the wire" > "$WORK/a/Wire Song.mp3"

"$BIN" gnutella node --listen 127.0.0.1:0 --share "$WORK/a" --control 127.0.0.1:0 >"$WORK/a.log" 2>&1 &
PIDS+=($!)
A=$(address_in "$WORK/a.log" "listening on")
PORT=${A##*:}

tshark -i lo -f "tcp port $PORT" -w "$WORK/capture.pcapng" >"$WORK/tshark.log" 2>&1 &
PIDS+=($!)
# tshark can take seconds to start on a loaded machine; a servent dialled before it
# captures would hide the handshake, so nothing dials until it says it is capturing.
for _ in $(seq 600); do grep -q "Capturing on" "$WORK/tshark.log" && break; sleep 0.1; done
grep -q "Capturing on" "$WORK/tshark.log" || {
    echo "gnutella-wire-check: tshark did not start capturing within 60 s" >&2
    exit 1
}

"$BIN" gnutella node --listen 127.0.0.1:0 --connect "$A" --share "$WORK/b" \
    --control 127.0.0.1:0 >"$WORK/b.log" 2>&1 &
PIDS+=($!)
B_CONTROL=$(address_in "$WORK/b.log" "control port")
# The search waits until b has its neighbour (its stats list one), at most 30 s.
for _ in $(seq 300); do
    stats=$("$BIN" stats --control "$B_CONTROL" 2>/dev/null | tr -d ' \n') || stats=
    case $stats in
        *'"neighbours":[]'* | '') sleep 0.1 ;;
        *) break ;;
    esac
done
"$BIN" search --control "$B_CONTROL" wire song
sleep 1
kill -INT "${PIDS[0]}"
wait "${PIDS[0]}" 2>/dev/null || true

read_capture() {
    tshark -r "$WORK/capture.pcapng" -o tcp.desegment_tcp_streams:FALSE -d tcp.port==$PORT,gnutella "$@" 2>/dev/null
}
status=0
for type in 0x00:Ping 0x01:Pong 0x80:Query 0x81:QueryHit; do
    n=$(read_capture -Y "gnutella.header.payload == ${type%%:*}" | wc -l)
    echo "${type##*:}: $n frame(s)"
    [ "$n" -gt 0 ] || { echo "missing: ${type##*:}" >&2; status=1; }
done
hello=$(read_capture -Y 'tcp.payload contains "GNUTELLA CONNECT/0.6"' | wc -l)
echo "0.6 CONNECT frames: $hello"
[ "$hello" -gt 0 ] || { echo "missing: the 0.6 handshake" >&2; status=1; }
speeds=$(read_capture -Y 'gnutella.header.payload == 0x80' -T fields -e gnutella.query.min_speed | sort -u | tr '\n' ' ')
echo "query speed fields as the dissector reads them: $speeds"
[ "$speeds" = "128 " ] || { echo "a Query without the flags mark (80 00)" >&2; status=1; }
echo "search text on the wire: $(read_capture -Y 'gnutella.header.payload == 0x80' -T fields -e gnutella.query.search | sort -u | tr '\n' ' ')"
echo "hit name on the wire: $(read_capture -Y 'gnutella.header.payload == 0x81' -T fields -e gnutella.queryhit.hit.name | sort -u | tr '\n' ' ')"
bad=$(read_capture -Y '_ws.malformed && gnutella && !(tcp.payload contains "GNUTELLA")' | wc -l)
echo "malformed Gnutella frames (handshake text excluded): $bad"
[ "$bad" -eq 0 ] || { read_capture -Y '_ws.malformed && gnutella && !(tcp.payload contains "GNUTELLA")' >&2; status=1; }
if [ "$status" -eq 0 ]; then echo "gnutella-wire-check: ok"; else echo "gnutella-wire-check: FAILED (logs follow)" >&2; fi
exit "$status"
