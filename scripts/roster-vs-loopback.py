#!/usr/bin/env python3
"""One scenario run twice — on loopback, every node in the runner's process, and through a
roster, every node on a seat of another (emulated) host — and the key lines of both: per
query phase and network, found/findable in each, the verdict each gives, and where the
roster run's nodes ran. Exits with 1 if a verdict differs, if the two runs did not ask the
same queries of the same live peers (the seeded plan makes them equal), or if any hit named
a holder that does not hold the file. Used by scripts/multihost-roster.sh.

A verdict is what a phase says about a design: it "finds" (at least FINDS of the findable
files found), is "degraded" (some), or finds "none" (at most NONE). The figures between
them vary from run to run with the machine's timing; the verdicts do not, unless the
machine is saturated (marked ⚠, as the reports mark it): then a search window or a timer
that fires late turns found files into misses.

usage: roster-vs-loopback.py LOOPBACK/report.json ROSTER/report.json
"""
import ipaddress
import json
import sys

FINDS = 0.8
NONE = 0.05


def load(path):
    report = json.load(open(path))
    phases = {}
    for run in report["runs"]:
        for net in run["networks"]:
            for p in net["phases"]:
                if p["queries"] > 0:
                    phases[(run["nodes"], p["label"], net["network"])] = p
    return report, phases


def verdict(p):
    rate = p.get("success_rate")
    if rate is None:
        return "none"
    if rate >= FINDS:
        return "finds"
    if rate <= NONE:
        return "none"
    return "degraded"


def found(p):
    """found/findable, marked as the report marks a phase the machine saturated."""
    busy = " ⚠" if (p.get("machine") or {}).get("saturated") else ""
    return f"{p['found']}/{p['findable']}{busy}"


def main():
    (loop, a), (roster, b) = load(sys.argv[1]), load(sys.argv[2])
    print(f"loopback: mode {loop['mode']}, wall time {loop['wall_s']:.1f} s; "
          f"roster: mode {roster['mode']}, wall time {roster['wall_s']:.1f} s")
    print("| N | phase | network | loopback found/findable | roster found/findable "
          "| verdict, loopback | verdict, roster |")
    print("|---|---|---|---|---|---|---|")
    problems = []
    for key, p in a.items():
        q = b.get(key)
        if q is None:
            problems.append(f"{key}: no such phase in the roster run")
            continue
        n, label, net = key
        print(f"| {n} | {label} | {net} | {found(p)} | {found(q)} "
              f"| {verdict(p)} | {verdict(q)} |")
        if verdict(p) != verdict(q):
            problems.append(f"{label}, {net}: {verdict(p)} on loopback, {verdict(q)} on the roster")
        for field in ("queries", "missing", "live_peers"):
            if p[field] != q[field]:
                problems.append(f"{label}, {net}: {field} {p[field]} on loopback, {q[field]} on the roster")
        for side, r in (("loopback", p), ("roster", q)):
            if r["outcomes"].get("wrong_hits", 0):
                problems.append(f"{label}, {net}: wrong hits on {side}")
    print("where each node ran (roster):")
    hosts = {}
    for placed in roster.get("placement", []):
        host = placed["listen"].rsplit(":", 1)[0]
        hosts.setdefault((placed["network"], host), []).append(placed["node"])
    for (net, host), nodes in sorted(hosts.items()):
        print(f"  {net} on {host}: {len(nodes)} nodes ({', '.join(nodes[:4])}, ...)")
        if ipaddress.ip_address(host.strip("[]")).is_loopback:
            problems.append(f"{net}: a node of the roster run listened on loopback")
    if not hosts:
        problems.append("the roster run's report says nowhere where its nodes ran")
    print("⚠: the machine was saturated in that phase (late timers or every core busy), so "
          "its figures measure the machine as much as the network")
    if problems:
        for p in problems:
            print(f"FAIL: {p}")
        sys.exit(1)
    print(f"ok: same verdicts on all {len(a)} query phases, the same queries of the same live peers")


if __name__ == "__main__":
    main()
