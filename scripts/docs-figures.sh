#!/usr/bin/env bash
# Regenerates every figure and every number the book (docs/) shows, from real runs with
# fixed seeds. Chapters include the files written here with mdBook's {{#include ...}}, so
# no number in the book is typed by hand. Run from anywhere; takes several minutes, most of
# it in the scenario runs. Pass --traces-only to skip the scenario runs, --all to run every
# scenario in scenarios/ and not only the default tour (the larger ones need many open
# files, and about 20 minutes all together on two cores), or scenario names to run just
# those (after the traces), e.g. `scripts/docs-figures.sh churn scaling`.
#
#   docs/src/generated/*.txt, *.md   text: traces, hex dumps, scenario reports
#   docs/src/figures/*.svg           pictures: traces and scenario charts
#   docs/src/players/*.html          step-through players of the traces
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release --bin p2plab
P="${CARGO_TARGET_DIR:-target}/release/p2plab"
GEN=docs/src/generated
FIG=docs/src/figures
PLAY=docs/src/players
mkdir -p "$GEN" "$FIG" "$PLAY"

# One search through each network: the text, the picture, the player, and the bytes of its
# messages.
grep -v '^#' scripts/traces.list | while read -r text args; do
    [ -n "$text" ] || continue
    args=${args/--svg /--svg $FIG/}
    # shellcheck disable=SC2086 # the arguments are words, split on purpose
    "$P" trace ${args/--html /--html $PLAY/} > "$GEN/$text"
done

# Summaries: the last lines of each trace, for the chapters' prose.
for t in napster gnutella gnutella-ttl2 gnutella-ttl7 chord chord-recursive chord-64; do
    awk 'BEGIN{RS=""} {last=$0} END{print last}' "$GEN/trace-$t.txt" > "$GEN/summary-$t.txt"
done

if [ "${1:-}" = "--traces-only" ]; then
    exit 0
fi

# The scenarios, side by side: each report's tables and charts.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
scenarios="default"
if [ "${1:-}" = "--all" ]; then
    scenarios="default find-anything query-cost single-point-of-failure churn session-churn scaling partition"
elif [ $# -gt 0 ]; then
    scenarios="$*"
fi
for s in $scenarios; do
    out="out/docs/$s"
    rm -rf "$out"
    "$P" run "scenarios/$s.json" --out "$out"
    # The report's headings move down two levels, to sit inside chapter 6's sections.
    sed -e 's/^## /#### /' -e '1s/^# /### /' "$out/report.md" > "$GEN/report-$s.md"
    mkdir -p "$FIG/$s"
    rm -f "$FIG/$s"/*.svg
    cp "$out"/charts/*.svg "$FIG/$s/"
    # Markdown image links to the charts, for chapter 6 to include.
    for chart in "$FIG/$s"/*.svg; do
        name=$(basename "$chart" .svg)
        printf '![%s: %s](figures/%s/%s.svg)\n\n' "$s" "$name" "$s" "$name"
    done > "$GEN/charts-$s.md"
done

# The default scenario on the simulator beside the run on sockets above, for the simulator
# chapter.
if [ -f out/docs/default/report.json ]; then
    rm -rf out/docs/default-sim
    "$P" run scenarios/default.json --sim --out out/docs/default-sim
    python3 scripts/side-by-side.py out/docs/default/report.json \
        out/docs/default-sim/report.json > "$GEN/side-by-side-default.md"
fi

# The classroom in miniature, on network namespaces, for the classroom section, and the
# default tour through a roster of seats on them, for the deployment chapter (as root
# only: it creates them; otherwise the last recorded runs stay).
if [ "$(id -u)" = 0 ] && command -v ip > /dev/null; then
    P2PLAB_BIN="$P" scripts/multihost.sh > "$GEN/multihost.txt"
    P2PLAB_BIN="$P" scripts/multihost-roster.sh > "$GEN/multihost-roster.txt"
fi
