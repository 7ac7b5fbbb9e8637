#!/usr/bin/env bash
# Gnutella at scale: reach and messages per query against TTL 1..7 on random and
# Barabási–Albert overlays of 10,000 and 100,000 unchanged servents, in the simulator.
# Writes docs/src/generated/gnutella-scale/{table.md,table.json,reach.svg,messages.svg}.
#
# Usage: scripts/gnutella-scale.sh [QUERIES]   (queries per TTL, default 20)
set -euo pipefail
cd "$(dirname "$0")/.."

queries="${1:-20}"
out=docs/src/generated/gnutella-scale

cargo build --release -p p2plab
bin="${CARGO_TARGET_DIR:-target}/release/p2plab"

"$bin" sim gnutella \
    --nodes 10000,100000 \
    --graph random,ba \
    --ttl-max 7 \
    --queries "$queries" \
    --seed 1 \
    --out "$out"
