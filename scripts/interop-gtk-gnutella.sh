#!/usr/bin/env bash
# A p2plab servent as a leaf under a real gtk-gnutella ultrapeer: searches and downloads, both ways.
#
#   (a) p2plab searches for a file gtk-gnutella shares, gets its hit, downloads it, and the
#       bytes must equal the shared file's;
#   (b) gtk-gnutella searches for a file p2plab shares (its Query reaches the leaf only
#       through the leaf's QRP table), and then downloads it from p2plab: the bytes in its
#       download folder must equal the shared file's.
#
# Everything runs inside a network namespace that has only loopback (`unshare -n`, then
# `ip link set lo up`): gtk-gnutella sends UPnP/SSDP discovery at start-up even with UPnP off,
# and nothing may leave this machine. gtk-gnutella refuses to run as root, so it runs as uid
# 65534 with a private HOME and config. Its build is dated; more than two years past that
# date it calls itself "ancient" and demotes itself to leaf, so it runs under `faketime`.
#
# Not part of CI (CI has no gtk-gnutella). Needs root, faketime, and a gtk-gnutella: the
# headless one (GTKG, default /usr/local/bin/gtk-gnutella) cannot start a search from its
# shell, so gtk-gnutella runs as the GTK2 build (GTKG_GUI, default
# /opt/gtkg/gtk2/src/gtk-gnutella) under xvfb-run when that exists, driven through the
# headless binary's `--shell`; without it the search of (b) is reported as SKIP. Its download
# in (b) is started from its shell as a magnet whose source is the hit's address and index.
#
# Usage: scripts/interop-gtk-gnutella.sh
#        scripts/interop-gtk-gnutella.sh --install <gtk-gnutella source: a bare git dir or a tree>
#   e.g. scripts/interop-gtk-gnutella.sh --install /work/.mirror/gtk-gnutella+gtk-gnutella/repo
#
# --install prepares a machine once, then exits: it installs the build and run dependencies
# with apt-get (faketime, xvfb, xauth, libgtk2.0-dev and those INTEROP.md lists), exports the
# source twice, builds the headless gtk-gnutella in GTKG_SRC (default /opt/gtkg/headless) and
# installs it as GTKG, and builds the GTK2 one in place as GTKG_GUI (its tree is the folder
# above src/). Both are "unofficial" builds, which read their data files from their source
# tree: keep both trees. A source snapshot may lack the blobs of its largest data files
# (extra_files/geo-ip.txt, geo-ipv6.txt, spam_sha1.txt), and `git archive HEAD` stops at the
# first absent blob, so the export takes the files whose blobs are there and puts placeholders
# in for the others (spam_sha1.txt needs one line of 32 `A`s, or gtk-gnutella aborts at start).
# A binary already in place is not built again.
#
# Prints PASS / FAIL / SKIP per step with the reason; exits 0 only when every step passed.
set -euo pipefail
cd "$(dirname "$0")/.."

GTKG=${GTKG:-/usr/local/bin/gtk-gnutella}
GTKG_GUI=${GTKG_GUI:-/opt/gtkg/gtk2/src/gtk-gnutella}
# Within two years of the build's date (1.2.3 calls itself of 2024-03-03), so it stays an
# ultrapeer.
FAKE_DATE=${FAKE_DATE:-2025-06-01 12:00:00}
# The longest any one wait may take, in seconds.
WAIT=${WAIT:-60}
NOBODY=65534

if [ "$(id -u)" != 0 ]; then
    echo "interop-gtk-gnutella: needs root (for unshare -n and to run gtk-gnutella as uid $NOBODY)" >&2
    exit 2
fi

# --- --install: gtk-gnutella from its source, headless and GTK2 -------------------------------
GTKG_SRC=${GTKG_SRC:-/opt/gtkg/headless}
APT_PACKAGES=(build-essential zlib1g-dev libglib2.0-dev bison gettext libgnutls28-dev pkg-config
    libgtk2.0-dev xvfb xauth faketime iproute2 util-linux)

# Exports the source $1 (a bare git dir or a source tree) into the folder $2 (new or empty).
export_source() {
    local src=$1 dir=$2 path
    local -a present
    if [ -n "$(ls -A "$dir" 2>/dev/null)" ]; then
        echo "interop-gtk-gnutella: $dir is not empty; remove it, or name another folder" >&2
        exit 2
    fi
    mkdir -p "$dir"
    if git --git-dir="$src" rev-parse --git-dir >/dev/null 2>&1; then
        # The paths of HEAD whose blobs the snapshot holds (cat-file answers "missing" for
        # the others).
        mapfile -t present < <(git --git-dir="$src" ls-tree -r --format='%(objectname) %(path)' HEAD |
            git --git-dir="$src" cat-file --batch-check='%(objecttype) %(rest)' | sed -n 's/^blob //p')
        # git archive still names each absent blob on stderr, though it leaves them out.
        git --git-dir="$src" archive HEAD -- "${present[@]}" 2>/dev/null | tar -x -C "$dir"
        while IFS= read -r path; do
            [ -e "$dir/$path" ] && continue
            echo "   placeholder for $path (its blob is not in the snapshot)"
            if [ "$(basename "$path")" = spam_sha1.txt ]; then
                printf '%032d\n' 0 | tr 0 A >"$dir/$path"
            else
                : >"$dir/$path"
            fi
        done < <(git --git-dir="$src" ls-tree -r --name-only HEAD)
    elif [ -x "$src/build.sh" ]; then
        cp -r "$src/." "$dir"
        for path in geo-ip.txt geo-ipv6.txt; do
            [ -e "$dir/extra_files/$path" ] || : >"$dir/extra_files/$path"
        done
        [ -e "$dir/extra_files/spam_sha1.txt" ] ||
            printf '%032d\n' 0 | tr 0 A >"$dir/extra_files/spam_sha1.txt"
    else
        echo "interop-gtk-gnutella: $src is neither a git dir nor a gtk-gnutella source tree" >&2
        exit 2
    fi
}

# Runs `build.sh $2...` in the folder $1, its output in $1/build.txt.
build_in() {
    local dir=$1
    shift
    echo "== building gtk-gnutella in $dir: ./build.sh $*"
    (cd "$dir" && ./build.sh "$@") >"$dir/build.txt" 2>&1 ||
        { tail -n 20 "$dir/build.txt"; echo "interop-gtk-gnutella: the build in $dir failed" >&2; exit 1; }
}

install_gtkg() {
    local src=$1 prefix=${GTKG%/bin/gtk-gnutella} gui_tree=${GTKG_GUI%/src/gtk-gnutella}
    if [ "$prefix" = "$GTKG" ] || [ "$gui_tree" = "$GTKG_GUI" ]; then
        echo "interop-gtk-gnutella: --install needs GTKG to end in /bin/gtk-gnutella and GTKG_GUI in /src/gtk-gnutella" >&2
        exit 2
    fi
    echo "== installing ${APT_PACKAGES[*]}"
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${APT_PACKAGES[@]}" >/dev/null
    if [ -x "$GTKG" ]; then
        echo "== $GTKG is there already"
    else
        export_source "$src" "$GTKG_SRC"
        build_in "$GTKG_SRC" --prefix="$prefix" --topless --unofficial --disable-dbus --disable-nls
        (cd "$GTKG_SRC" && make install) >>"$GTKG_SRC/build.txt" 2>&1 ||
            { tail -n 20 "$GTKG_SRC/build.txt"; echo "interop-gtk-gnutella: make install failed" >&2; exit 1; }
    fi
    if [ -x "$GTKG_GUI" ]; then
        echo "== $GTKG_GUI is there already"
    else
        export_source "$src" "$gui_tree"
        build_in "$gui_tree" --gtk2 --unofficial --disable-dbus --disable-nls
    fi
    echo "== gtk-gnutella: $GTKG (headless), $GTKG_GUI (GTK2)"
}

if [ "${1:-}" = --install ]; then
    install_gtkg "${2:?usage: $0 --install <gtk-gnutella source: a bare git dir or a source tree>}"
    exit 0
fi

if [ "${1:-}" != --inside ]; then
    export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
    cargo build --release --quiet --bin p2plab
    exec timeout --signal=TERM $((WAIT * 8)) unshare -n -- "$0" --inside
fi
ip link set lo up

BIN="${CARGO_TARGET_DIR:-target}/release/p2plab"
WORK=$(mktemp -d /tmp/interop-gtkg.XXXXXX)
chmod 755 "$WORK"
export P2PLAB_RUNTIME_DIR="$WORK/run"
PIDS=()
failed=0
skipped=0
# Each program started runs in its own session (setsid), so its whole process group goes:
# gtk-gnutella runs under setpriv, env, faketime (and xvfb-run), which fork.
cleanup() {
    for pid in "${PIDS[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
    sleep 1
    for pid in "${PIDS[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    echo "logs: $WORK"
}
trap cleanup EXIT

pass() { echo "PASS $1: $2"; }
fail() { echo "FAIL $1: $2"; failed=1; }
skip() { echo "SKIP $1: $2"; skipped=$((skipped + 1)); }

# Waits until `cmd...` succeeds, for at most $WAIT seconds.
wait_for() {
    local deadline=$((SECONDS + WAIT))
    while [ "$SECONDS" -lt "$deadline" ]; do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.5
    done
    return 1
}

# The address after `marker` in a p2plab log.
address_in() {
    sed -n "s/.*$1 \([0-9.]*:[0-9]*\).*/\1/p" "$2" | head -1
}

# --- gtk-gnutella: an ultrapeer on loopback, sharing one file ---------------------------------
GHOME="$WORK/gtkg"
GPORT=36346
mkdir -p "$GHOME/.gtk-gnutella" "$GHOME/share"
GTKG_FILE="gtkgside interop $RANDOM.bin"
head -c 300000 /dev/urandom >"$GHOME/share/$GTKG_FILE"
cat >"$GHOME/.gtk-gnutella/config_gnet" <<EOF
listen_port = $GPORT
forced_local_ip = "127.0.0.1"
force_local_ip = TRUE
bind_to_forced_local_ip = TRUE
use_netmasks = TRUE
local_netmasks = "127.0.0.0/8"
allow_private_network_connection = TRUE
configured_peermode = 2
allow_firewalled_ultra = TRUE
is_firewalled = FALSE
up_connections = 0
shared_dirs = "$GHOME/share"
enable_udp = FALSE
enable_dht = FALSE
enable_g2 = FALSE
enable_guess = FALSE
enable_upnp = FALSE
enable_natpmp = FALSE
enable_local_socket = TRUE
node_debug = 1
search_debug = 2
download_debug = 1
EOF
chown -R "$NOBODY:$NOBODY" "$GHOME"

# A command as uid 65534 with gtk-gnutella's HOME and the fake date.
AS_NOBODY=(setpriv --reuid=$NOBODY --regid=$NOBODY --clear-groups
    env -i HOME="$GHOME" PATH=/usr/bin:/bin FAKETIME_DONT_FAKE_MONOTONIC=1
    faketime "$FAKE_DATE")

if [ -x "$GTKG_GUI" ] && command -v xvfb-run >/dev/null; then
    GTKG_RUN=(xvfb-run -a "$GTKG_GUI" --no-supervise --no-restart)
    GUI=1
else
    GTKG_RUN=("$GTKG" --no-supervise --no-restart --topless)
    GUI=0
fi
setsid "${AS_NOBODY[@]}" "${GTKG_RUN[@]}" >"$WORK/gtkg.log" 2>&1 &
PIDS+=($!)

# gtk-gnutella's shell: one command on stdin, its answer on stdout.
gtkg_shell() {
    echo "$*" | "${AS_NOBODY[@]}" "$GTKG" --shell 2>&1
}

listening() { ss -ltn | grep -q "127.0.0.1:$GPORT "; }
if wait_for listening; then
    pass setup "$(sed -n 's/.*(INFO): \(gtk-gnutella\/[^ ]*\).*/\1/p' "$WORK/gtkg.log" | head -1) listens on 127.0.0.1:$GPORT"
else
    fail setup "gtk-gnutella did not listen on $GPORT"; exit 1
fi
peermode() { gtkg_shell "print current_peermode" | sed -n 's/^Value: //p'; }
is_ultra() { peermode | grep -q 'ultra node'; }
if wait_for is_ultra; then
    pass ultrapeer "gtk-gnutella's current_peermode is $(peermode)"
else
    fail ultrapeer "gtk-gnutella is not an ultrapeer: current_peermode $(peermode)"
fi

# --- p2plab: a leaf sharing its own folder -----------------------------------------------------
PSHARE="$WORK/p2plab-share"
mkdir -p "$PSHARE"
P2P_FILE="p2plabside interop $RANDOM.bin"
head -c 200000 /dev/urandom >"$PSHARE/$P2P_FILE"
setsid "$BIN" gnutella node --leaf --listen 127.0.0.1:0 --connect "127.0.0.1:$GPORT" \
    --share "$PSHARE" --control 127.0.0.1:0 --min-peers 1 >"$WORK/p2plab.log" 2>&1 &
PIDS+=($!)
wait_for grep -q "control port" "$WORK/p2plab.log" || { fail setup "p2plab did not start"; exit 1; }
CONTROL=$(address_in "control port" "$WORK/p2plab.log")
LEAF=$(address_in "listening on" "$WORK/p2plab.log")

leaf_up() { gtkg_shell "nodes" | grep -q "${LEAF%%:*}"; }
if wait_for leaf_up; then
    pass leaf "p2plab ($LEAF) is connected to gtk-gnutella: $(gtkg_shell nodes | grep "${LEAF%%:*}" | head -1 | tr -s ' ')"
else
    fail leaf "gtk-gnutella lists no p2plab node: $(gtkg_shell nodes | tr '\n' ' ')"
fi

[ -n "${POKE:-}" ] && . "$POKE"

# --- (a) p2plab searches gtk-gnutella and downloads ------------------------------------------
found() { "$BIN" search --control "$CONTROL" gtkgside interop >"$WORK/search-a.txt"; }
if wait_for found; then
    pass a-search "p2plab got a hit: $(head -1 "$WORK/search-a.txt")"
    if "$BIN" get --control "$CONTROL" --out "$WORK/a-download.bin" "$GTKG_FILE" >"$WORK/get-a.txt" 2>&1; then
        if cmp -s "$WORK/a-download.bin" "$GHOME/share/$GTKG_FILE"; then
            pass a-download "$(stat -c %s "$WORK/a-download.bin") bytes, identical to gtk-gnutella's file"
        else
            fail a-download "the bytes differ from gtk-gnutella's file"
        fi
    else
        fail a-download "$(tr '\n' ' ' <"$WORK/get-a.txt")"
    fi
else
    fail a-search "no hit for 'gtkgside interop' within ${WAIT}s"
fi

# --- (b) gtk-gnutella searches p2plab and downloads -----------------------------------------
if [ "$GUI" = 0 ]; then
    skip b-search "the headless gtk-gnutella cannot start a search; set GTKG_GUI to a GTK build"
else
    # Its shell takes one word as the query.
    echo "$(gtkg_shell "search add p2plabside")" >"$WORK/search-b.txt"
    # With search_debug 2 it logs each result set it files under one of its searches.
    got_hit() { grep -q 'SEARCH "p2plabside" got [1-9].*p2plab' "$WORK/gtkg.log"; }
    if wait_for got_hit; then
        pass b-search "$(grep -o 'SEARCH "p2plabside" got [1-9].*' "$WORK/gtkg.log" | head -1)"
    else
        fail b-search "gtk-gnutella filed no hit from p2plab ($(tr '\n' ' ' <"$WORK/search-b.txt"))"
    fi
fi
# The download, by gtk-gnutella's own downloader, from the leaf's address and its file's index
# (the only file it shares is index 0), as the hit gives them.
# As a magnet (dn, xs): the GTK2 build crashes on `download add http://...`.
NAME=$(printf '%s' "$P2P_FILE" | sed 's/ /%20/g')
MAGNET="magnet:?dn=$NAME&xs=http://$LEAF/get/0/$NAME"
gtkg_shell "download add $MAGNET" >"$WORK/download-b.txt"
GOT="$GHOME/gtk-gnutella-downloads/complete/$P2P_FILE"
if wait_for test -s "$GOT"; then
    if cmp -s "$GOT" "$PSHARE/$P2P_FILE"; then
        pass b-download "$(stat -c %s "$GOT") bytes in gtk-gnutella's download folder, identical to p2plab's file"
    else
        fail b-download "gtk-gnutella's copy differs from p2plab's file"
    fi
else
    fail b-download "nothing in gtk-gnutella's download folder ($(gtkg_shell downloads | tr '\n' ' '))"
fi

if [ "$failed" != 0 ]; then
    echo "interop-gtk-gnutella: FAILED"
elif [ "$skipped" != 0 ]; then
    echo "interop-gtk-gnutella: no step failed, $skipped skipped"
else
    echo "interop-gtk-gnutella: every step passed"
fi
exit "$failed"
