#!/usr/bin/env bash
# Dynamic querying (0.6 ultrapeers) against the TTL-7 flood (0.4), in the simulator: Query
# and QueryHit messages, reach and results per search, by how common the file is, on random
# overlays of 1,024 servents (mean degree 6, and 16 as Fisk's draft asks of ultrapeers) and
# of 10,000 servents (mean degree 6).
# Writes docs/src/generated/gnutella-dynamic/table.md.
#
# Usage: scripts/gnutella-dynamic.sh [SEARCHES]   (searches per class, default 20)
set -euo pipefail
cd "$(dirname "$0")/.."

searches="${1:-20}"
out=docs/src/generated/gnutella-dynamic
mkdir -p "$out"

cargo build --release -p p2plab-sim --example dynamic_vs_flood
bin="${CARGO_TARGET_DIR:-target}/release/examples/dynamic_vs_flood"

{
    "$bin" 1024 "$searches" 1 3
    "$bin" 1024 "$searches" 1 8
    "$bin" 10000 "$searches" 1 3
} > "$out/table.md"
