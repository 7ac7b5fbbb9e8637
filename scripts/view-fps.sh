#!/usr/bin/env bash
# Measures the frame rate `p2plab view` animates at with 1,000 nodes: the browser test
# a_thousand_servents_flood_keeps_drawing_while_it_plays replays a 1,000-servent Gnutella
# flood in headless Chromium at the player's fastest speed and counts requestAnimationFrame
# callbacks over a measured interval (and, for comparison, with nothing moving). This script
# runs that test, reads the figure it prints, and writes it into
# docs/src/generated/view-fps.txt with the node count and the machine's load at the time:
# a frame rate means little without knowing whether the cores were busy with other work.
# The machine counts as saturated when its 1-minute load average, at the end of the
# measurement, is at least its number of cores. Run from anywhere; builds what it needs.
set -euo pipefail
cd "$(dirname "$0")/.."

OUT=docs/src/generated/view-fps.txt
source scripts/lib/browser-figure.sh
measure a_thousand_servents_flood_keeps_drawing_while_it_plays view-fps

{
    echo "p2plab view, replaying a $(field nodes)-servent Gnutella flood ($(field messages) messages) at $(field speed) messages/s in headless Chromium:"
    echo "  $(field fps) frames/s while playing ($(field frames) requestAnimationFrame callbacks in $(field ms) ms; $(field shown) messages shown)"
    echo "  $(field idle_fps) frames/s on the same page with nothing moving (the browser's own pace)"
    machine_line
} >"$OUT"
cat "$OUT"
