#!/usr/bin/env bash
# Gnutella at scale: reach and messages per query against TTL 1..7 on random and
# Barabási–Albert overlays of unchanged servents, in the simulator.
# Writes docs/src/generated/gnutella-scale/{table.md,table.json,reach.svg,messages.svg} for
# 10,000 and 100,000 servents, or docs/src/generated/gnutella-scale-NODES/ for other sizes.
#
# Usage: scripts/gnutella-scale.sh [QUERIES] [NODES]
#   QUERIES  queries per TTL (default 20)
#   NODES    overlay sizes, comma-separated (default 10000,100000). A million servents take
#            about 11 GiB and ten minutes per graph on a two-core machine:
#            scripts/gnutella-scale.sh 10 1000000
set -euo pipefail
cd "$(dirname "$0")/.."

queries="${1:-20}"
nodes="${2:-10000,100000}"
out=docs/src/generated/gnutella-scale
if [ "$nodes" != 10000,100000 ]; then
    out="$out-${nodes//,/-}"
fi

cargo build --release -p p2plab
bin="${CARGO_TARGET_DIR:-target}/release/p2plab"

"$bin" sim gnutella \
    --nodes "$nodes" \
    --graph random,ba \
    --ttl-max 7 \
    --queries "$queries" \
    --seed 1 \
    --out "$out"
