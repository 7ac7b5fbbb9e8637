# Emulated hosts for the multi-host scripts (sourced, not run): network namespaces on one
# machine, each with its own address on a private bridge, as the machines of a small
# classroom. Everything is removed again on exit, failure or timeout:
#   - a namespace "<tag>sw" holding a Linux bridge with no address and no uplink, so the
#     hosts reach each other and nothing else (the machine's own namespace is untouched);
#   - MULTIHOST_HOSTS namespaces "<tag>h<i>", each with lo and one veth on the bridge,
#     address $NET.<i+1>/24, and after them EXTRA_HOSTS more (set by the caller, default
#     0) for what is no node's host (the scenario runner); each direction of each link is
#     rate-limited with tbf when the kernel has it (netem is looked for too, and its
#     absence said);
#   - $WORK, a scratch folder, with $WORK/run/h<i> the private token folder of host i;
#   - the processes the caller adds to PIDS are killed, and their stderr in
#     $WORK/log/*.err shown on failure.
#
# Needs root and iproute2. Defines say, fail, host_ns, host_ip and on (run a command on a
# host). Environment:
#   CARGO_TARGET_DIR     where the release binary is (default: target/ of the repository);
#                        P2PLAB_BIN names the binary directly instead
#   MULTIHOST_HOSTS      emulated hosts (default 3, at least 3)
#   MULTIHOST_RATE       tbf rate of each link direction (default 100mbit; "off": none)
#   MULTIHOST_NET        the /24 the hosts live in, as its first three octets (10.77.0)
#   MULTIHOST_TIMEOUT    seconds the whole run may take before it gives up (default 600)

EXTRA_HOSTS=${EXTRA_HOSTS:-0}
HOSTS=${MULTIHOST_HOSTS:-3}
RATE=${MULTIHOST_RATE:-100mbit}
NET=${MULTIHOST_NET:-10.77.0}
TIMEOUT=${MULTIHOST_TIMEOUT:-600}
BIN=${P2PLAB_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/release/p2plab}

say() { printf '%s\n' "$*"; }
fail() {
    say "FAIL: $*"
    exit 1
}

[[ $(id -u) == 0 ]] || fail "needs root (it creates network namespaces)"
command -v ip >/dev/null || fail "needs iproute2's ip"
[[ -x $BIN ]] || fail "no binary at $BIN: build it with cargo build --release -p p2plab"
((HOSTS >= 3)) || fail "MULTIHOST_HOSTS must be at least 3"
((HOSTS <= 200)) || fail "MULTIHOST_HOSTS must be at most 200 (one /24)"

# A tag short enough for interface names (15 bytes) and unique to this run.
TAG=mh$(($$ % 100000))
SW=${TAG}sw
WORK=$(mktemp -d /tmp/p2plab-multihost.XXXXXX)
PIDS=()

cleanup() {
    local status=$?
    # Every step below runs, whatever the one before it did.
    set +e
    trap - EXIT INT TERM ERR
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    [[ -n ${WATCHDOG:-} ]] && kill "$WATCHDOG" 2>/dev/null
    [[ -n ${WATCHDOG:-} ]] && wait "$WATCHDOG" 2>/dev/null
    for ((h = 0; h < HOSTS + EXTRA_HOSTS; h++)); do ip netns del "${TAG}h$h" 2>/dev/null || true; done
    ip netns del "$SW" 2>/dev/null || true
    if ((status != 0)) && [[ -d $WORK/log ]]; then
        say "--- last lines of each node's log (stderr) ---"
        for f in "$WORK"/log/*.err; do
            [[ -s $f ]] && { say "== $(basename "$f")"; tail -n 3 "$f"; }
        done
    fi
    rm -rf "$WORK"
    exit "$status"
}
trap cleanup EXIT
trap 'say "FAIL: line $LINENO: $BASH_COMMAND"' ERR
trap 'say "FAIL: interrupted"; exit 1' INT
trap 'say "FAIL: gave up after MULTIHOST_TIMEOUT=${TIMEOUT}s"; exit 1' TERM
# The watchdog: TERMs this script after $TIMEOUT s; cleanup TERMs it (and its sleep) first.
(
    trap 'kill "$sleeper" 2>/dev/null; exit 0' TERM
    sleep "$TIMEOUT" &
    sleeper=$!
    wait "$sleeper" && kill -TERM $$
) &
WATCHDOG=$!

host_ns() { printf '%s' "${TAG}h$1"; }
host_ip() { printf '%s' "$NET.$(($1 + 1))"; }
# Runs a command on host $1.
on() {
    local h=$1
    shift
    ip netns exec "$(host_ns "$h")" env P2PLAB_RUNTIME_DIR="$WORK/run/h$h" "$@"
}

# ---- the emulated hosts ----------------------------------------------------------------
ip netns add "$SW"
ip -n "$SW" link add br0 type bridge
ip -n "$SW" link set br0 up
ip -n "$SW" link set lo up
# What the kernel offers for shaping, tried on the bridge (and taken off again).
probe_qdisc() {
    ip netns exec "$SW" tc qdisc add dev br0 root "$@" 2>/dev/null &&
        ip netns exec "$SW" tc qdisc del dev br0 root
}
shaped=none
[[ $RATE != off ]] && probe_qdisc tbf rate "$RATE" burst 64kb latency 50ms && shaped=tbf
netem=absent
probe_qdisc netem delay 1ms && netem=present
for ((h = 0; h < HOSTS + EXTRA_HOSTS; h++)); do
    ns=$(host_ns "$h")
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    ip link add eth0 netns "$ns" type veth peer name "p$h" netns "$SW"
    ip -n "$SW" link set "p$h" master br0 up
    ip -n "$ns" addr add "$(host_ip "$h")/24" dev eth0
    ip -n "$ns" link set eth0 up
    if [[ $shaped == tbf ]]; then
        ip netns exec "$ns" tc qdisc add dev eth0 root tbf rate "$RATE" burst 64kb latency 50ms
        ip netns exec "$SW" tc qdisc add dev "p$h" root tbf rate "$RATE" burst 64kb latency 50ms
    fi
    mkdir -m 700 -p "$WORK/run/h$h"
done
say "hosts: $HOSTS namespaces on a bridge, $NET.1-$(host_ip $((HOSTS - 1))) (/24), no route elsewhere"
if [[ $shaped == tbf ]]; then
    say "links: tbf rate $RATE each way on every host's link; netem $netem"
else
    say "links: unshaped (tbf unavailable or MULTIHOST_RATE=off); netem $netem"
fi

