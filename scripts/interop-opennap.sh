#!/usr/bin/env bash
# Downloads between two p2plab Napster peers through drscholl's OpenNap server, on loopback,
# as a user would run them: `p2plab napster peer` against a real `opennap`, then
# `p2plab get` through each peer's control port, several times in a row and both ways, each
# download compared byte for byte (cmp) with the file its holder shares.
#
# OpenNap answers a download request (203) by asking the holder (607) and tells the
# downloader where to connect (204) only after the holder accepts (608); it greets each
# login with its motd (621) and stats (214). A third peer runs firewalled (data port 0):
# its files go out by push, which OpenNap relays as 500, 607/608, then 501 to the holder.
# This checks p2plab's peers against all of that.
#
# Usage: scripts/interop-opennap.sh <opennap source: a bare git dir or a source tree>
#   e.g. scripts/interop-opennap.sh /work/.mirror/sbcas+opennap/repo
#
# Not part of CI (CI has no OpenNap source). It builds OpenNap in a temporary folder (see
# INTEROP.md; installs build-essential and zlib1g-dev if missing), runs it with a private
# config (a free port on 127.0.0.1, no stats port, uid/gid 65534 when run as root), and
# stops everything it started on exit. Prints PASS, or FAIL with the reason.
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=3

src=${1:?usage: $0 <opennap source: a bare git dir or a source tree>}
work=$(mktemp -d /tmp/interop-opennap.XXXXXX)
chmod 755 "$work" # OpenNap runs as uid 65534 and reads its config folder inside
pids=()

stop_all() {
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
}
trap stop_all EXIT

fail() {
    echo "FAIL: $*"
    for log in "$work"/*.log; do
        [ -f "$log" ] && { echo "--- last lines of $log"; tail -n 15 "$log"; }
    done
    exit 1
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Waits up to $1 seconds for the command after it to succeed.
wait_for() {
    local limit=$1
    shift
    for _ in $(seq "$limit"); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 1
    done
    return 1
}

build_opennap() {
    if ! command -v gcc >/dev/null || [ ! -e /usr/include/zlib.h ]; then
        echo "== installing build-essential zlib1g-dev"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q build-essential zlib1g-dev >/dev/null
    fi
    mkdir -p "$work/opennap-src"
    if git --git-dir="$src" rev-parse --git-dir >/dev/null 2>&1; then
        git --git-dir="$src" archive HEAD | tar -x -C "$work/opennap-src"
    elif [ -x "$src/configure" ]; then
        cp -r "$src/." "$work/opennap-src"
    else
        fail "$src is neither a git dir nor an OpenNap source tree"
    fi
    echo "== building OpenNap in $work/opennap-src"
    (cd "$work/opennap-src" && CFLAGS="-fcommon -O2 -w" ./configure >"$work/build.txt" 2>&1 &&
        make >>"$work/build.txt" 2>&1) || { tail -n 20 "$work/build.txt"; fail "OpenNap did not build"; }
}

# A private config folder, as INTEROP.md describes; prints the port it listens on.
configure_opennap() {
    local dir=$work/opennap port
    port=$(free_port)
    mkdir -p "$dir"
    {
        echo "server_name opennap.local"
        echo "listen_addr 127.0.0.1"
        echo "server_ports $port"
        echo "stats_port -1"
        echo "config_dir $dir"
        echo "max_clones 0"
        echo "flood_commands 0"
        if [ "$(id -u)" = 0 ]; then
            echo "uid 65534"
            echo "gid 65534"
        fi
    } >"$dir/config"
    echo ":version 1" >"$dir/users"
    echo "OpenNap on loopback, for p2plab's interop check." >"$dir/motd"
    [ "$(id -u)" = 0 ] && chown -R 65534:65534 "$dir"
    echo "$port"
}

# Shares $2 files of different sizes, named after $1, in its own folder.
make_share() {
    local dir=$work/share-$1 i
    mkdir -p "$dir"
    for i in $(seq "$2"); do
        head -c $((i * i * 100000 + 7 * i)) /dev/urandom >"$dir/$1 song $i.mp3"
    done
}

# Starts $1's peer with control port $2, and any further flags (--firewalled), in the
# background; `started` waits for it.
start_peer() {
    local nick=$1 control=$2
    shift 2
    "$bin" napster peer --server "127.0.0.1:$server_port" --share "$work/share-$nick" \
        --nick "$nick" --control "127.0.0.1:$control" "$@" >"$work/$nick.log" 2>&1 &
    pids+=($!)
}

# Waits until $1's peer has written its control token.
started() {
    wait_for 20 grep -q "^control token in" "$work/$1.log" || fail "$1's peer did not start"
}

# $1 downloads "$2 song $i.mp3" for each i from $2's peer, checking the bytes.
fetch_all() {
    local nick=$1 holder=$2 control=$3 i name out
    for i in $(seq "$ROUNDS"); do
        name="$holder song $i.mp3"
        out="$work/got-$nick/$name"
        mkdir -p "$work/got-$nick"
        "$bin" get --control "127.0.0.1:$control" "$name" --out "$out" --force \
            >>"$work/get-$nick.txt" 2>&1 || fail "$nick could not download \"$name\": $(tail -n 1 "$work/get-$nick.txt")"
        cmp -s "$out" "$work/share-$holder/$name" || fail "$nick got other bytes than $holder shares for \"$name\""
        echo "   $nick <- $holder: \"$name\" $(stat -c %s "$out") bytes, identical"
    done
}

build_opennap
cargo build --release -q -p p2plab
bin="${CARGO_TARGET_DIR:-target}/release/p2plab"

server_port=$(configure_opennap)
"$work/opennap-src/opennap" -c "$work/opennap/config" >"$work/opennap.log" 2>&1 &
pids+=($!)
wait_for 20 grep -q "listening on 127.0.0.1 port $server_port" "$work/opennap.log" ||
    fail "OpenNap did not start listening on port $server_port"
echo "== OpenNap $(git --git-dir="$src" log -1 --format=%h 2>/dev/null || echo tree) listening on 127.0.0.1:$server_port"

make_share alice "$ROUNDS"
make_share bob "$ROUNDS"
make_share carol "$ROUNDS"
alice_control=$(free_port)
bob_control=$(free_port)
carol_control=$(free_port)
# All at once, as a user starting peers would: each writes its own token file.
start_peer alice "$alice_control"
start_peer bob "$bob_control"
start_peer carol "$carol_control" --firewalled
started alice
started bob
started carol
wait_for 30 "$bin" search --control "127.0.0.1:$alice_control" bob song "$ROUNDS" ||
    fail "alice never found bob's files through OpenNap"
wait_for 30 "$bin" search --control "127.0.0.1:$bob_control" alice song "$ROUNDS" ||
    fail "bob never found alice's files through OpenNap"
wait_for 30 "$bin" search --control "127.0.0.1:$alice_control" carol song "$ROUNDS" ||
    fail "alice never found carol's files through OpenNap"
echo "== all three peers logged in and found each other's files"

for round in 1 2; do
    echo "== round $round"
    fetch_all alice bob "$alice_control"
    fetch_all bob alice "$bob_control"
    fetch_all alice carol "$alice_control"
done

# The user commands, answered by OpenNap itself: alice browses bob's files (211 → 212… 213),
# asks who he is (603 → 604) and pings him (751, relayed to bob, whose 752 comes back); a
# nick OpenNap never saw is refused with its 404.
echo "== browse, whois and ping through OpenNap"
"$bin" napster browse --control "127.0.0.1:$alice_control" bob >"$work/browse.txt" ||
    fail "alice could not browse bob: $(cat "$work/browse.txt")"
listed=$(grep -c "bob song" "$work/browse.txt" || true)
[ "$listed" -eq "$ROUNDS" ] || fail "browse listed $listed of bob's $ROUNDS files: $(cat "$work/browse.txt")"
echo "   alice browsed bob: $listed files"
"$bin" napster whois --control "127.0.0.1:$alice_control" bob >"$work/whois.txt" ||
    fail "alice could not whois bob: $(cat "$work/whois.txt")"
grep -q "$ROUNDS" "$work/whois.txt" || fail "whois bob does not say he shares $ROUNDS files: $(cat "$work/whois.txt")"
echo "   alice whois bob: $(tr '\n' ' ' <"$work/whois.txt")"
"$bin" napster ping --control "127.0.0.1:$alice_control" bob >"$work/ping.txt" 2>&1 ||
    fail "alice's ping of bob was not answered: $(cat "$work/ping.txt")"
echo "   $(cat "$work/ping.txt")"
if "$bin" napster whois --control "127.0.0.1:$alice_control" nobodyhere >"$work/whois-none.txt" 2>&1; then
    fail "whois of a nick OpenNap never saw succeeded: $(cat "$work/whois-none.txt")"
fi
echo "   whois nobodyhere: $(cat "$work/whois-none.txt")"

# What each peer heard from OpenNap: every upload was asked (607) and accepted (608), and
# the login greeting (621, 214) came and was taken in stride; every one of carol's came
# as a push (501).
for nick in alice bob carol; do
    control=${nick}_control
    "$bin" stats --control "127.0.0.1:${!control}" >"$work/stats-$nick.json" ||
        fail "no stats from $nick"
    python3 - "$work/stats-$nick.json" "$nick" "$((2 * ROUNDS))" <<'PY' || fail "$nick's counters do not show the 607/608 exchange"
import json, sys
metrics = json.load(open(sys.argv[1]))["metrics"]
count = lambda side, kind: metrics[side].get(kind, {}).get("messages", 0)
asked, accepted = count("received", "upload_request"), count("sent", "upload_accept")
pushes = count("received", "upload_firewall")
print(f"   {sys.argv[2]}: received 607 x{asked}, sent 608 x{accepted}, "
      f"received 204 x{count('received', 'download_ack')}, 501 x{pushes}, "
      f"sent 500 x{count('sent', 'download_firewall')}, "
      f"621 x{count('received', 'motd')}, 214 x{count('received', 'stats')}; "
      f"dropped {metrics.get('dropped', {})}")
pushed = sys.argv[2] == "carol"
sys.exit(0 if asked == accepted == int(sys.argv[3]) and (pushes == asked) == pushed else 1)
PY
done
echo "PASS: $((3 * 2 * ROUNDS)) downloads through OpenNap, $((2 * ROUNDS)) of them pushed by a firewalled peer, all bytes identical; browse, whois and ping answered"
