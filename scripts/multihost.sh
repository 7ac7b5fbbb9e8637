#!/usr/bin/env bash
# Napster, Gnutella and Chord across emulated hosts: network namespaces on one machine,
# each with its own address on a private bridge, as the machines of a small classroom.
#
# What it builds (everything is removed again on exit, failure or timeout):
#   - the emulated hosts of scripts/lib/netns-hosts.sh: MULTIHOST_HOSTS namespaces on a
#     private bridge, host i at $NET.<i+1>, links shaped with tbf where the kernel has it;
#   - on the hosts, MULTIHOST_PER_HOST nodes of each network: a Napster index server on
#     host 0 and peers that log in to it at its namespace address, Gnutella servents,
#     Chord nodes. Host 0's nodes listen on every interface with --advertise (what a
#     student types); the other hosts' nodes listen on their host's own address. Every
#     control port is on its host's loopback, reached with `ip netns exec`, with its
#     token in a folder of that host's own.
#
# Then it checks through the `p2plab` client, printing "ok: ..." for each check passed and
# "FAIL: ..." with the reason for the first one that fails (exit 1):
#   - Napster: every peer logged in; a search from host 1 finds host 2's file under host
#     2's address; the download gives identical bytes;
#   - Gnutella: a search from host 1 finds host 0's file at 10.77.0.1 (the advertised
#     address, not 0.0.0.0) and host 2's; both downloads give identical bytes;
#   - Chord: every node joined one ring (each node's successor is the next by id) across
#     the hosts; a search from host 2 finds host 0's file at its advertised address, and
#     the download gives identical bytes;
#   - a servent listening on every interface that advertises 127.0.0.1 refuses a peer
#     from another host (and says so in its log);
#   - after every node of the last host is killed: the Chord ring of the survivors mends,
#     Gnutella still finds the survivors' files, and the Napster index no longer holds the
#     dead host's files.
#
# Needs root and iproute2. Traffic goes only to the namespaces' own addresses.
#
# Environment: MULTIHOST_PER_HOST, nodes of each network per host (default 4: 12 per
# network), and those of scripts/lib/netns-hosts.sh (P2PLAB_BIN, MULTIHOST_HOSTS,
# MULTIHOST_RATE, MULTIHOST_NET, MULTIHOST_TIMEOUT).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PER_HOST=${MULTIHOST_PER_HOST:-4}

# How long one client command may take, and how many times a check polls (2 s apart).
ASK_SECS=30
POLLS=60

# The emulated hosts (and say, fail, on, host_ip, start's PIDS, the cleanup).
# shellcheck source=lib/netns-hosts.sh
source "$ROOT/scripts/lib/netns-hosts.sh"
mkdir -p "$WORK/log" "$WORK/share" "$WORK/got"

# The p2plab client on host $1, bounded in time.
client() {
    local h=$1
    shift
    on "$h" timeout "$ASK_SECS" "$BIN" "$@"
}

# ---- starting nodes --------------------------------------------------------------------
# Where host $1's nodes listen: every interface with --advertise on host 0, the host's
# own address elsewhere (as two kinds of student machine would).
listen_flags() {
    if (($1 == 0)); then
        printf -- '--listen 0.0.0.0:0 --advertise %s' "$(host_ip 0)"
    else
        printf -- '--listen %s:0' "$(host_ip "$1")"
    fi
}

# A folder with one file of its own: $1 the node's name; prints the folder.
share_for() {
    local dir=$WORK/share/$1
    mkdir -p "$dir"
    head -c $((20000 + RANDOM)) /dev/urandom >"$dir/mh-$1.bin"
    printf '%s' "$dir"
}

# Starts `p2plab "$@"` on host $1 as node $2, waits for its two address lines, and sets
# ADDR (what it advertises) and CONTROL.
start() {
    local h=$1 name=$2
    shift 2
    : >"$WORK/log/$name.out"
    # A simple command, not a function, so $! is the node's own pid (ip and env exec it).
    ip netns exec "$(host_ns "$h")" env P2PLAB_RUNTIME_DIR="$WORK/run/h$h" \
        "$BIN" "$@" >"$WORK/log/$name.out" 2>"$WORK/log/$name.err" &
    PIDS+=($!)
    eval "PID_$name=$!"
    local i
    for ((i = 0; i < 100; i++)); do
        ADDR=$(sed -n 's/.* listening on //p' "$WORK/log/$name.out")
        CONTROL=$(sed -n 's/^control port //p' "$WORK/log/$name.out")
        [[ -n $ADDR && -n $CONTROL ]] && break
        kill -0 "${PIDS[-1]}" 2>/dev/null || fail "$name exited: $(tail -n 2 "$WORK/log/$name.err")"
        sleep 0.1
    done
    [[ -n $ADDR && -n $CONTROL ]] || fail "$name did not report its addresses"
    eval "ADDR_$name=$ADDR CTRL_$name=$CONTROL HOST_$name=$h"
}

# Node names: n<host>_<j> (Napster peer), g<host>_<j>, c<host>_<j>.
NAPSTER=() GNUTELLA=() CHORD=()
# The index server listens as the teacher's does in the book: every interface, advertised.
# shellcheck disable=SC2046 # the flags are words, split on purpose
start 0 server napster server $(listen_flags 0) --control 127.0.0.1:0
SERVER=$ADDR_server
for ((j = 0; j < PER_HOST; j++)); do
    for ((h = 0; h < HOSTS; h++)); do
        # Napster: every peer logs in at the server's namespace address, even on host 0,
        # so the server records each peer's own host address.
        name=n${h}_$j
        start "$h" "$name" napster peer --server "$SERVER" --share "$(share_for "$name")" \
            $(listen_flags "$h") --nick "$name" --control 127.0.0.1:0
        NAPSTER+=("$name")

        # Gnutella: each servent dials the two started last (on other hosts, mostly).
        name=g${h}_$j
        connect=()
        for prev in "${GNUTELLA[@]: -2}"; do
            [[ -n $prev ]] && eval "connect+=(--connect \$ADDR_$prev)"
        done
        start "$h" "$name" gnutella node $(listen_flags "$h") "${connect[@]}" \
            --share "$(share_for "$name")" --control 127.0.0.1:0 \
            --min-peers 3 --ping-interval-ms 1000 --search-window-ms 1500 --seed $((${#GNUTELLA[@]} + 1))
        GNUTELLA+=("$name")

        # Chord: the first node (on host 0) creates the ring, every later one joins
        # through it.
        name=c${h}_$j
        join=()
        ((${#CHORD[@]} > 0)) && join=(--join "$ADDR_c0_0")
        start "$h" "$name" chord node $(listen_flags "$h") "${join[@]}" \
            --share "$(share_for "$name")" --control 127.0.0.1:0 \
            --stabilize-ms 250 --fix-fingers-ms 100 --seed $((${#CHORD[@]} + 1))
        CHORD+=("$name")
    done
done
say "started: 1 Napster server and ${#NAPSTER[@]} peers, ${#GNUTELLA[@]} Gnutella servents, ${#CHORD[@]} Chord nodes on $HOSTS hosts"
for name in server g0_0 c0_0 n0_0; do
    v=ADDR_$name
    [[ ${!v} == "$(host_ip 0):"* ]] || fail "$name listens on 0.0.0.0 but advertises ${!v}"
done
say "ok: host 0's nodes listen on 0.0.0.0 and advertise $(host_ip 0)"

# ---- checks ----------------------------------------------------------------------------
# The client's `stats` of node $1 as JSON.
stats() {
    local h=HOST_$1 c=CTRL_$1
    client "${!h}" stats --control "${!c}" 2>/dev/null
}

# Polls `p2plab search` on node $1 for the file of node $2 until a hit names it; sets HIT.
search_until() {
    local from=$1 holder=$2 i
    local h=HOST_$from c=CTRL_$from
    for ((i = 0; i < POLLS; i++)); do
        HIT=$(client "${!h}" search --control "${!c}" "mh-$holder" 2>"$WORK/search.err" |
            grep -F "mh-$holder.bin" || true)
        [[ -n $HIT ]] && return 0
        sleep 2
    done
    fail "a search from $from for $holder's file found nothing: $(tail -n 1 "$WORK/search.err")"
}

# Downloads node $2's file through node $1 and compares the bytes.
get_same() {
    local from=$1 holder=$2
    local h=HOST_$from c=CTRL_$from out=$WORK/got/$from-$holder.bin
    client "${!h}" get --control "${!c}" "mh-$holder.bin" --out "$out" >"$WORK/get.out" 2>&1 ||
        fail "$from could not download $holder's file: $(tail -n 1 "$WORK/get.out")"
    cmp -s "$out" "$WORK/share/$holder/mh-$holder.bin" ||
        fail "$from downloaded $holder's file with other bytes"
    say "   $(cat "$WORK/get.out" | sed "s|$WORK/got/||")"
}

last=$((HOSTS - 1))

# Napster.
want=${#NAPSTER[@]}
for ((i = 0; i < POLLS; i++)); do
    users=$(stats server | jq '.state.users')
    ((users == want)) && break
    sleep 2
done
((users == want)) || fail "the Napster server holds $users users, not $want"
say "ok: napster: all $want peers logged in to $SERVER from $HOSTS hosts"
search_until n1_0 "n${last}_0"
[[ $HIT == *"@$(host_ip "$last")"* ]] || fail "napster: the hit does not name host $last's address: $HIT"
say "ok: napster: a search from host 1 finds host $last's file: $HIT"
get_same n1_0 "n${last}_0"
search_until "n${last}_1" n0_1
[[ $HIT == *"@$(host_ip 0)"* ]] || fail "napster: the hit does not name host 0's address: $HIT"
get_same "n${last}_1" n0_1
say "ok: napster: downloads across hosts give identical bytes"

# Gnutella.
search_until g1_0 g0_1
[[ $HIT == *"$(host_ip 0):"* ]] || fail "gnutella: the QueryHit does not name host 0's advertised address: $HIT"
say "ok: gnutella: a search from host 1 finds host 0's file at its advertised address: $HIT"
get_same g1_0 g0_1
search_until g1_0 "g${last}_2"
[[ $HIT == *"$(host_ip "$last"):"* ]] || fail "gnutella: the QueryHit does not name host $last's address: $HIT"
get_same g1_0 "g${last}_2"
say "ok: gnutella: downloads across hosts give identical bytes"

# Chord: the ring is right when each node's first successor is the next node by id.
# Prints "ok" or what is wrong, from the stats of the nodes named in "$@".
ring_check() {
    local name
    for name in "$@"; do stats "$name" || echo '{}'; done | jq -rs '
        [ .[] | select(.state.node != null) | .state ] as $v
        | ($v | map(.node) | sort_by([(.id | length), .id])) as $ring
        | if ($v | length) != '$#' then "only \($v | length) of '$#' nodes answered"
          else [ $v[] | . as $n
                 | ($ring | map(.addr) | index($n.node.addr)) as $at
                 | select(($n.successors[0].addr // "none") != $ring[($at + 1) % ($ring | length)].addr)
                 | "\($n.node.addr) has successor \($n.successors[0].addr // "none")" ]
               | if length == 0 then "ok" else "\(length) wrong, e.g. \(.[0])" end
          end'
}
ring_wait() {
    local i verdict
    for ((i = 0; i < POLLS; i++)); do
        verdict=$(ring_check "$@")
        [[ $verdict == ok ]] && return 0
        sleep 2
    done
    fail "chord: the ring of $# nodes did not settle: $verdict"
}
ring_wait "${CHORD[@]}"
hosts_in_ring=$(for n in "${CHORD[@]}"; do stats "$n" | jq -r '.state.successors[0].addr'; done |
    sed 's/:.*//' | sort -u | wc -l)
((hosts_in_ring == HOSTS)) || fail "chord: successors name only $hosts_in_ring of $HOSTS hosts"
say "ok: chord: all ${#CHORD[@]} nodes joined one ring across $HOSTS hosts (each successor is the next by id)"
search_until "c${last}_0" c0_2
[[ $HIT == *"$(host_ip 0):"* ]] || fail "chord: the index entry does not name host 0's advertised address: $HIT"
say "ok: chord: a search from host $last finds host 0's file at its advertised address: $HIT"
get_same "c${last}_0" c0_2
say "ok: chord: downloads across hosts give identical bytes"

# A node that advertises loopback refuses a peer from another host: it would tell that
# peer an address leading back to the peer's own machine.
start 1 lonely gnutella node --listen 0.0.0.0:0 --advertise 127.0.0.1 \
    --share "$(share_for lonely)" --control 127.0.0.1:0
lonely_port=${ADDR_lonely##*:}
start "$last" stranger gnutella node --listen "$(host_ip "$last"):0" \
    --connect "$(host_ip 1):$lonely_port" --share "$(share_for stranger)" --control 127.0.0.1:0
for ((i = 0; i < POLLS; i++)); do
    grep -q "refused a peer off loopback" "$WORK/log/lonely.err" && break
    sleep 0.5
done
grep -q "refused a peer off loopback" "$WORK/log/lonely.err" ||
    fail "a servent advertising 127.0.0.1 did not refuse a peer from host $last"
why=$(stats stranger | jq -r '.problem.tried[0].failure | tostring')
say "ok: a servent advertising 127.0.0.1 refused a peer from host $last, whose stats say: $why"
kill "$PID_lonely" "$PID_stranger"
{ wait "$PID_lonely" "$PID_stranger" || true; } 2>/dev/null

# ---- a host goes down ------------------------------------------------------------------
for name in "${NAPSTER[@]}" "${GNUTELLA[@]}" "${CHORD[@]}"; do
    h=HOST_$name
    if ((${!h} == last)); then
        p=PID_$name
        kill -9 "${!p}"
        { wait "${!p}" || true; } 2>/dev/null
    fi
done
say "killed every node of host $last"
alive() { local n h; for n in "$@"; do h=HOST_$n; ((${!h} != last)) && printf '%s ' "$n"; done; }
read -ra CHORD_LEFT <<<"$(alive "${CHORD[@]}")"
ring_wait "${CHORD_LEFT[@]}"
say "ok: chord: the ${#CHORD_LEFT[@]} survivors mended their ring (each successor is the next by id)"
search_until g1_1 g0_3
get_same g1_1 g0_3
say "ok: gnutella: survivors still find and download each other's files"
# `p2plab search` exits with 1 when nothing matches, 2 when it could not search.
for ((i = 0; i < POLLS; i++)); do
    gone=yes
    for ((j = 0; j < PER_HOST; j++)); do
        rc=0
        client 0 search --control "$CTRL_n0_0" "mh-n${last}_$j" >/dev/null 2>"$WORK/search.err" || rc=$?
        ((rc == 1)) || gone=no
        ((rc == 0 || rc == 1)) || fail "napster: the search failed: $(tail -n 1 "$WORK/search.err")"
    done
    [[ $gone == yes ]] && break
    sleep 2
done
[[ $gone == yes ]] || fail "napster: the index still holds host $last's files"
users=$(stats server | jq '.state.users')
((users == want - PER_HOST)) || fail "napster: the server holds $users users, not $((want - PER_HOST))"
say "ok: napster: host $last's files are gone from the index, $users peers remain"
search_until n1_1 n0_2
say "ok: napster: the survivors' files are still found"

say "multihost: all checks passed"
