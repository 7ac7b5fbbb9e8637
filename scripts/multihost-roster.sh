#!/usr/bin/env bash
# A scenario through a roster, across emulated hosts: the runner starts no node itself.
#
# What it builds (everything is removed again on exit, failure or timeout):
#   - the emulated hosts of scripts/lib/netns-hosts.sh: MULTIHOST_HOSTS namespaces on a
#     private bridge, host i at $NET.<i+1>, links shaped with tbf where the kernel has it,
#     and one namespace more, the runner's host, that holds no node (as a teacher's laptop
#     or a Kubernetes Job would);
#   - on every host, one `p2plab seat` process per network holding that host's share of
#     the scenario's peers (peer i on host i mod MULTIHOST_HOSTS), and the seat of
#     Napster's index server on host 0. Host 0's seats listen on every interface with
#     --advertise, the others on their host's address; every control port is on its host's
#     address (--control-allow-remote), its token drawn by the seat into its host's own
#     token folder. Ports are fixed (the roster names them), inside namespaces of their own;
#   - the roster, naming each seat's listen address, control port and token file.
#
# Then, on the runner's host: `p2plab run SCENARIO --roster roster.json` (every start,
# search, download, crash and rejoin of the timeline through the seats' control ports),
# then the same scenario on the runner host's loopback, every node in the runner's process,
# and scripts/roster-vs-loopback.py prints the two reports' key lines side by side and
# fails unless their verdicts agree.
#
# Environment: MULTIHOST_SCENARIO, the scenario (default scenarios/default.json; its
# "nodes" must be one number), MULTIHOST_REPORTS, a folder to keep both reports in
# (default: none kept), and those of scripts/lib/netns-hosts.sh (P2PLAB_BIN,
# MULTIHOST_HOSTS, MULTIHOST_RATE, MULTIHOST_NET, MULTIHOST_TIMEOUT).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SCENARIO=${MULTIHOST_SCENARIO:-$ROOT/scenarios/default.json}
REPORTS=${MULTIHOST_REPORTS:-}

# The first listen and control port of each network's seats on a host; a host holds at
# most PORTS_PER_NETWORK seats of a network.
PORTS_PER_NETWORK=200
declare -A LISTEN_BASE=([napster]=6700 [gnutella]=6400 [chord]=7400)
declare -A CONTROL_BASE=([napster]=9100 [gnutella]=9400 [chord]=9700)
SERVER_LISTEN=8888
SERVER_CONTROL=9000
# How many times the script polls (0.1 s apart) for a seat process's lines.
POLLS=300

EXTRA_HOSTS=1
# shellcheck source=lib/netns-hosts.sh
source "$ROOT/scripts/lib/netns-hosts.sh"
RUNNER=$HOSTS
mkdir -p "$WORK/log" "$WORK/reports"

command -v jq >/dev/null || fail "needs jq"
command -v python3 >/dev/null || fail "needs python3"
[[ -r $SCENARIO ]] || fail "no scenario at $SCENARIO"
NODES=$(jq -r '.nodes | numbers' "$SCENARIO")
[[ -n $NODES ]] || fail "$SCENARIO: \"nodes\" must be one number for a roster"
NETWORKS=$(jq -r '.networks[]' "$SCENARIO")
PER_HOST=$(((NODES + HOSTS - 1) / HOSTS))
((PER_HOST <= PORTS_PER_NETWORK)) || fail "$NODES peers need more than $PORTS_PER_NETWORK seats a host"

# Where host $1's seats listen: every interface with --advertise on host 0, the host's own
# address elsewhere (as two kinds of student machine would); $2 the first port.
listen_flags() {
    if (($1 == 0)); then
        printf -- '--listen 0.0.0.0:%s --advertise %s' "$2" "$(host_ip 0)"
    else
        printf -- '--listen %s:%s' "$(host_ip "$1")" "$2"
    fi
}

# How many seats of a seat process's output in $1 are ready (each says its token last).
tokens() { grep -c '^control token in ' "$1" || true; }

# Starts `p2plab seat` on host $1 as $2 with $3 seats from listen port $4 and control port
# $5, waits for its lines, and prints one roster entry a line, in seat order.
seats() {
    local h=$1 name=$2 count=$3 out=$WORK/log/$2.out i
    : >"$out"
    # shellcheck disable=SC2046 # the flags are words, split on purpose
    ip netns exec "$(host_ns "$h")" env P2PLAB_RUNTIME_DIR="$WORK/run/h$h" \
        "$BIN" seat $(listen_flags "$h" "$4") --control "$(host_ip "$h"):$5" \
        --control-allow-remote --seats "$count" >"$out" 2>"$WORK/log/$name.err" &
    PIDS+=($!)
    for ((i = 0; i < POLLS; i++)); do
        (($(tokens "$out") == count)) && break
        kill -0 "${PIDS[-1]}" 2>/dev/null || fail "$name exited: $(tail -n 2 "$WORK/log/$name.err")"
        sleep 0.1
    done
    (($(tokens "$out") == count)) || fail "$name did not report its $count seats"
    paste -d ' ' <(sed -n 's/^seat listening on //p' "$out") \
        <(sed -n 's/^control port //p' "$out") <(sed -n 's/^control token in //p' "$out") |
        while read -r listen control token; do
            printf '{ "listen": "%s", "control": "%s", "token_file": "%s" }\n' \
                "$listen" "$control" "$token"
        done
}

# ---- the seats and the roster ----------------------------------------------------------
# Each seat process's entries go to a file of their own, in seat order.
for net in $NETWORKS; do
    if [[ $net == napster ]]; then
        seats 0 napster-server 1 "$SERVER_LISTEN" "$SERVER_CONTROL" >"$WORK/napster-server.seats"
    fi
    for ((h = 0; h < HOSTS; h++)); do
        here=$(((NODES - h + HOSTS - 1) / HOSTS))
        seats "$h" "$net-h$h" "$here" "${LISTEN_BASE[$net]}" "${CONTROL_BASE[$net]}" \
            >"$WORK/$net-h$h.seats"
    done
done
roster=$WORK/roster.json
{
    printf '{ "networks": {\n'
    first=yes
    for net in $NETWORKS; do
        [[ $first == yes ]] || printf ',\n'
        first=no
        printf '  "%s": {\n' "$net"
        [[ $net == napster ]] && printf '    "server": %s,\n' "$(cat "$WORK/napster-server.seats")"
        # Peer i is host (i mod HOSTS)'s seat i / HOSTS.
        printf '    "peers": [\n'
        for ((i = 0; i < NODES; i++)); do
            printf '      %s' "$(sed -n "$((i / HOSTS + 1))p" "$WORK/$net-h$((i % HOSTS)).seats")"
            ((i + 1 < NODES)) && printf ',\n' || printf '\n'
        done
        printf '    ]\n  }'
    done
    printf '\n} }\n'
} >"$roster.tmp"
mv "$roster.tmp" "$roster"
jq -e . "$roster" >/dev/null || fail "the roster is not JSON"
seated=$(jq '[.networks[] | (.peers | length) + (if .server then 1 else 0 end)] | add' "$roster")
say "seats: $seated on $HOSTS hosts ($NODES peers of each network, one seat process per network and host), the runner on $(host_ip "$RUNNER") alone"

# ---- the two runs ----------------------------------------------------------------------
name=$(basename "$SCENARIO" .json)
on "$RUNNER" "$BIN" run "$SCENARIO" --roster "$roster" --out "$WORK/reports/roster" \
    >"$WORK/log/run-roster.out" 2>"$WORK/log/run-roster.err" ||
    fail "the roster run failed: $(tail -n 3 "$WORK/log/run-roster.err")"
say "ok: $name ran through the roster: every node on a seat, driven through its control port"
on "$RUNNER" "$BIN" run "$SCENARIO" --out "$WORK/reports/loopback" \
    >"$WORK/log/run-loopback.out" 2>"$WORK/log/run-loopback.err" ||
    fail "the loopback run failed: $(tail -n 3 "$WORK/log/run-loopback.err")"
say "ok: $name ran on loopback, every node in the runner's process"
if [[ -n $REPORTS ]]; then
    mkdir -p "$REPORTS"
    cp -r "$WORK/reports/roster" "$WORK/reports/loopback" "$REPORTS/"
fi
python3 "$ROOT/scripts/roster-vs-loopback.py" "$WORK/reports/loopback/report.json" \
    "$WORK/reports/roster/report.json" || fail "the two runs do not agree"
say "multihost-roster: all checks passed"
