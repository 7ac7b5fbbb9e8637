#!/usr/bin/env python3
"""One scenario's report on real sockets beside the same scenario's report from the
simulator: per phase and network, the success rate, the messages one search caused
(search msgs/query: the flood and its hits, the lookup's hops and index read, the server
round trip) and the upkeep each node sent per second meanwhile (pings, stabilization,
re-publication), on every phase. Used by scripts/docs-figures.sh to write the table the
simulator chapter includes, so that no number in it is typed by hand.

usage: side-by-side.py SOCKETS/report.json SIM/report.json > table.md
"""
import json
import sys


def phases(path):
    report = json.load(open(path))
    out = {}
    for run in report["runs"]:
        for net in run["networks"]:
            for p in net["phases"]:
                out[(run["nodes"], p["label"], net["network"])] = p
    return report["mode"], out


def fmt(value, digits):
    return "–" if value is None else f"{value:.{digits}f}"


def pct(rate):
    return "–" if rate is None else f"{100 * rate:.1f}%"


def main():
    (mode_a, a), (mode_b, b) = phases(sys.argv[1]), phases(sys.argv[2])
    print(f"| N | phase | network | success, {mode_a} | success, {mode_b} "
          f"| search msgs/query, {mode_a} | search msgs/query, {mode_b} "
          f"| upkeep msgs/node/s, {mode_a} | upkeep msgs/node/s, {mode_b} |")
    print("|---|---|---|---|---|---|---|---|---|")
    for key, p in a.items():
        q = b.get(key)
        if q is None or p["kind"] == "start":
            continue
        cells = [pct(p["success_rate"]), pct(q["success_rate"]),
                 fmt(p.get("search_messages_per_query"), 1),
                 fmt(q.get("search_messages_per_query"), 1),
                 fmt(p.get("upkeep_messages_per_node_s"), 2),
                 fmt(q.get("upkeep_messages_per_node_s"), 2)]
        print(f"| {key[0]} | {key[1]} | {key[2]} | " + " | ".join(cells) + " |")


main()
