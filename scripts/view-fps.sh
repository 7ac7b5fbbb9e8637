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
log=$(mktemp)
trap 'rm -f "$log"' EXIT

cargo test --release -p p2plab --test view a_thousand_servents_flood_keeps_drawing_while_it_plays \
    -- --exact --nocapture >"$log" 2>&1 || { cat "$log" >&2; exit 1; }
line=$(grep -m1 '^view-fps ' "$log") || {
    echo "the test printed no view-fps line (is chromium installed? scripts/install-chromium.sh)" >&2
    cat "$log" >&2
    exit 1
}
read -r load1 load5 load15 _ < /proc/loadavg
cores=$(nproc)

# The test's line is key=value words; pick them out by name.
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $line"; }
saturated=$(awk -v l="$load1" -v c="$cores" 'BEGIN { print (l >= c) ? "yes" : "no" }')

{
    echo "p2plab view, replaying a $(field nodes)-servent Gnutella flood ($(field messages) messages) at $(field speed) messages/s in headless Chromium:"
    echo "  $(field fps) frames/s while playing ($(field frames) requestAnimationFrame callbacks in $(field ms) ms; $(field shown) messages shown)"
    echo "  $(field idle_fps) frames/s on the same page with nothing moving (the browser's own pace)"
    echo "machine: $cores cores, load average $load1 $load5 $load15 (1, 5, 15 min) at the end; saturated (1-min load >= cores): $saturated"
} >"$OUT"
cat "$OUT"
