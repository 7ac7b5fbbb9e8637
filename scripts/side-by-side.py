#!/usr/bin/env python3
"""One scenario's report on real sockets beside the same scenario's report from the
simulator: per phase and network, the success rate and messages per query of query phases
(all messages of the phase over its queries, upkeep included, as the report counts them)
and the messages per node per second of quiet ones. Used by scripts/docs-figures.sh to
write the table the simulator chapter includes, so that no number in it is typed by hand.

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


def main():
    (mode_a, a), (mode_b, b) = phases(sys.argv[1]), phases(sys.argv[2])
    print(f"| N | phase | network | success, {mode_a} | success, {mode_b} "
          f"| msgs/query (upkeep included), {mode_a} | msgs/query (upkeep included), {mode_b} "
          f"| msgs/node/s, {mode_a} | msgs/node/s, {mode_b} |")
    print("|---|---|---|---|---|---|---|---|---|")
    for key, p in a.items():
        q = b.get(key)
        if q is None or p["kind"] == "start":
            continue
        pct = lambda r: "–" if r is None else f"{100 * r:.1f}%"
        print(f"| {key[0]} | {key[1]} | {key[2]} | {pct(p['success_rate'])} "
              f"| {pct(q['success_rate'])} | {fmt(p['messages_per_query'], 1)} "
              f"| {fmt(q['messages_per_query'], 1)} | {fmt(p['messages_per_node_s'], 2)} "
              f"| {fmt(q['messages_per_node_s'], 2)} |")


main()
