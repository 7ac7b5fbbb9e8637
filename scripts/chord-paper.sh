#!/usr/bin/env bash
# Runs the Chord paper's four experiments (scenarios/chord-paper/) in the simulator, in
# release, and writes each one's table.md, table.json and plot.svg into
# docs/src/generated/chord-paper/<experiment>/, for the book's simulator chapter; then the
# small-size versions (scenarios/chord-paper/small/) into
# docs/src/generated/chord-paper/small/<experiment>/, which the sim crate's test
# chord_paper_tables checks against the code's output.
#
# Usage: scripts/chord-paper.sh [experiment ...]   (default: all four, full and small)
set -euo pipefail
cd "$(dirname "$0")/.."

out=docs/src/generated/chord-paper
experiments=("$@")
if [ ${#experiments[@]} -eq 0 ]; then
    experiments=(keys-per-node path-length failures churn)
fi

cargo build --release -p p2plab
bin="${CARGO_TARGET_DIR:-target}/release/p2plab"

for e in "${experiments[@]}"; do
    echo "== $e (small)"
    "$bin" sim chord-paper "scenarios/chord-paper/small/$e.json" --out "$out/small/$e"
done
for e in "${experiments[@]}"; do
    echo "== $e"
    start=$(date +%s)
    "$bin" sim chord-paper "scenarios/chord-paper/$e.json" --out "$out/$e"
    echo "$e took $(( $(date +%s) - start )) s of wall time" | tee "$out/$e/wall.txt"
done
