#!/usr/bin/env bash
# Measures how usable `p2plab view` stays on a simulated network of 100,000 nodes: the
# browser test a_large_ring_shows_distributions_and_zooms_into_a_node_s_real_links builds a
# Chord ring of that many nodes on the simulator (`p2plab view ring`), opens its snapshot in
# headless Chromium, shows the distributions the page draws instead of every node, zooms
# into the busiest node and walks 20 successors, timing each zoom and counting the frames
# the browser drew meanwhile. This script runs that test with the size set, reads the
# figures it prints, and writes them into docs/src/generated/view-ring.txt with the
# machine's load at the time (saturated: 1-minute load average at least the number of
# cores). With P2PLAB_SCREENSHOTS set, the test also saves docs/src/figures/view-ring.png.
# Run from anywhere; builds what it needs. NODES=... sets another size.
set -euo pipefail
cd "$(dirname "$0")/.."

NODES=${NODES:-100000}
OUT=docs/src/generated/view-ring.txt
source scripts/lib/browser-figure.sh
export P2PLAB_VIEW_RING_NODES=$NODES
measure a_large_ring_shows_distributions_and_zooms_into_a_node_s_real_links view-ring

{
    echo "p2plab view ring --nodes $(field nodes), in headless Chromium:"
    echo "  $(field build_s) s from the command's start to its URL (building the ring on the simulator until it is exact)"
    echo "  $(field end_ms) ms from pressing the end to the distributions drawn (degree and load of every node)"
    echo "  $(field zooms) zooms, each to the first successor: median $(field zoom_ms_median) ms, slowest $(field zoom_ms_max) ms to the frame that shows it"
    echo "  $(field fps) frames/s while zooming; $(field idle_fps) frames/s with nothing moving (the browser's own pace)"
    machine_line
} >"$OUT"
cat "$OUT"
