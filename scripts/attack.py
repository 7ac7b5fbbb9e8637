#!/usr/bin/env python3
"""Attacks on running p2plab nodes, from outside, as a hostile peer or web page would make them.

Each attack starts real `p2plab` nodes on loopback (free ports only), attacks them with a client
written from the protocol texts alone (napster.txt, the Gnutella 0.4 specification), and prints
what it cost the node (resident memory, open descriptors) and whether legitimate users were still
served. Traffic goes only to 127.0.0.1; every attack is bounded in time and stops by itself.

    scripts/attack.py napster-noread    # a Napster client that searches and never reads
    scripts/attack.py gnutella-noread   # a neighbour that never reads, while another floods
    scripts/attack.py slow-crowd        # 2,000 connections dripping a byte every 5 s
    scripts/attack.py control           # a web page's POST, and a request without the token
    scripts/attack.py all

The binary is `$CARGO_TARGET_DIR/release/p2plab` (or target/release/p2plab), built if missing.
"""

import http.client
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
BIN = os.path.join(TARGET, "release", "p2plab")


def build():
    subprocess.run(["cargo", "build", "--release", "--quiet", "--bin", "p2plab"], cwd=ROOT, check=True)


class Node:
    """One `p2plab` child process and the addresses it printed."""

    def __init__(self, work, args):
        self.env = dict(os.environ, P2PLAB_RUNTIME_DIR=os.path.join(work, "run"), RUST_LOG=os.environ.get("ATTACK_LOG", "warn"))
        self.proc = subprocess.Popen([BIN] + args, stdout=subprocess.PIPE, stderr=open(os.environ.get("ATTACK_STDERR", os.devnull), "a"),
                                     text=True, env=self.env)
        self.addr = self.control = None
        deadline = time.time() + 20
        while time.time() < deadline and (self.addr is None or (self.control is None and "--control" in args)):
            line = self.proc.stdout.readline()
            if not line:
                raise SystemExit(f"node {args[:2]} exited before listening")
            m = re.search(r"listening on (\S+)", line)
            self.addr = parse(m.group(1)) if m else self.addr
            m = re.search(r"control port (\S+)", line)
            self.control = m.group(1) if m else self.control
        threading.Thread(target=self.proc.stdout.read, daemon=True).start()

    def rss_mib(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            kib = int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))
        return kib / 1024

    def fds(self):
        return len(os.listdir(f"/proc/{self.proc.pid}/fd"))

    def alive(self):
        return self.proc.poll() is None

    def cli(self, *args):
        """Runs `p2plab <args> --control <this node>`; returns (exit code, output)."""
        r = subprocess.run([BIN] + list(args) + ["--control", self.control], capture_output=True,
                           text=True, env=self.env, timeout=120)
        return r.returncode, (r.stdout + r.stderr).strip()

    def stop(self):
        self.proc.kill()
        self.proc.wait()


def parse(text):
    host, port = text.rsplit(":", 1)
    return host, int(port)


def share_dir(work, name, files):
    d = os.path.join(work, name)
    os.makedirs(d, exist_ok=True)
    for fname, size in files:
        with open(os.path.join(d, fname), "wb") as f:
            f.write(os.urandom(size))
    return d


def sample_rss(node, seconds, during=None):
    """Samples the node's RSS once a second for `seconds`; returns (first, peak, last)."""
    first = node.rss_mib()
    peak = first
    end = time.time() + seconds
    while time.time() < end:
        if during:
            during()
        time.sleep(1)
        if not node.alive():
            raise SystemExit("the node died")
        peak = max(peak, node.rss_mib())
    return first, peak, node.rss_mib()


# --- Napster: napster.txt framing, <len u16 LE><type u16 LE><data> ---------------------------

def nap_frame(kind, data):
    data = data.encode()
    return struct.pack("<HH", len(data), kind) + data


def napster_noread(work):
    server = Node(work, ["napster", "server", "--listen", "127.0.0.1:0", "--control", "127.0.0.1:0"])
    music = share_dir(work, "music", [(f"popular song {i}.mp3", 1000) for i in range(100)])
    holder = Node(work, ["napster", "peer", "--server", "%s:%d" % server.addr, "--share", music,
                         "--listen", "127.0.0.1:0", "--control", "127.0.0.1:0", "--nick", "holder"])
    time.sleep(1)
    mallory = socket.socket()
    mallory.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    mallory.connect(server.addr)
    mallory.sendall(nap_frame(2, 'mallory secret 0 "hostile 1.0" 0'))
    search = nap_frame(200, 'FILENAME CONTAINS "popular" MAX_RESULTS 100')
    sent = [0, None]

    def flood():
        try:
            for _ in range(200_000):
                mallory.sendall(search)
                sent[0] += 1
        except OSError as e:
            sent[1] = e

    t = threading.Thread(target=flood, daemon=True)
    before = server.rss_mib()
    t.start()
    first, peak, last = sample_rss(server, 15)
    code, out = holder.cli("search", "popular", "song")
    hits = len(out.splitlines()) if code == 0 else 0
    print(f"napster-noread: server RSS {before:.1f} MiB before, peak {peak:.1f} MiB, {last:.1f} MiB after 15 s;"
          f" Mallory sent {sent[0]} searches ({sent[0] * len(search) / 1e6:.1f} MB) before"
          f" {'the server hung up: ' + type(sent[1]).__name__ if sent[1] else 'the end of the attack'};"
          f" a legitimate search afterwards: {hits} hits")
    mallory.close()
    for n in (holder, server):
        n.stop()


# --- Gnutella 0.4: the 23-byte descriptor header, little-endian payload length -----------------

def gnut_connect(addr, rcvbuf=None):
    s = socket.socket()
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.connect(addr)
    s.sendall(b"GNUTELLA CONNECT/0.4\n\n")
    reply = b""
    while not reply.endswith(b"\n\n"):
        chunk = s.recv(1)
        if not chunk:
            raise SystemExit("the servent refused the handshake")
        reply += chunk
    assert reply == b"GNUTELLA OK\n\n", reply
    return s


def gnut_query(text, ttl):
    payload = struct.pack("<H", 0) + text.encode() + b"\0"
    return os.urandom(16) + struct.pack("<BBBI", 0x80, ttl, 0, len(payload)) + payload


def still_open(s):
    """Reads what is waiting on `s`: 'closed by the node' if the node hung up, else 'connected'."""
    s.settimeout(0.5)
    try:
        while s.recv(1 << 16):
            pass
        return "closed by the node"
    except socket.timeout:
        return "connected"
    except OSError as e:
        return f"closed by the node ({type(e).__name__})"


def gnutella_noread(work):
    music = share_dir(work, "gmusic", [(f"popular song {i}.mp3", 1000) for i in range(100)])
    victim = Node(work, ["gnutella", "node", "--listen", "127.0.0.1:0", "--share", music,
                         "--control", "127.0.0.1:0", "--min-peers", "0"])
    quiet = gnut_connect(victim.addr, rcvbuf=4096)  # never reads a byte after the handshake
    flooder = gnut_connect(victim.addr)
    sent = [0, None]

    def flood():
        try:
            for _ in range(300_000):
                flooder.sendall(gnut_query("no such file", 3))
                sent[0] += 1
        except OSError as e:
            sent[1] = e

    before = victim.rss_mib()
    threading.Thread(target=flood, daemon=True).start()
    first, peak, last = sample_rss(victim, 15)
    print(f"gnutella-noread: servent RSS {before:.1f} MiB before, peak {peak:.1f} MiB, {last:.1f} MiB after 15 s;"
          f" the flooder sent {sent[0]} Queries ({sent[0] * 38 / 1e6:.1f} MB);"
          f" the neighbour that never reads: {still_open(quiet)}; the flooder: {still_open(flooder)}")
    quiet.close()
    flooder.close()
    victim.stop()


# --- Slow connections ------------------------------------------------------------------------

def slow_crowd(work, size=2000, drip=5.0, hold=30.0):
    song = share_dir(work, "crowd", [("crowded song.mp3", 1_000_000)])
    holder = Node(work, ["gnutella", "node", "--listen", "127.0.0.1:0", "--share", song,
                         "--control", "127.0.0.1:0", "--min-peers", "1"])
    empty = share_dir(work, "nothing", [])
    seeker = Node(work, ["gnutella", "node", "--listen", "127.0.0.1:0", "--share", empty,
                         "--control", "127.0.0.1:0", "--min-peers", "1", "--connect", "%s:%d" % holder.addr])
    time.sleep(1)
    crowd, refused = [], 0
    for _ in range(size):
        s = socket.socket()
        try:
            s.connect(holder.addr)
            s.sendall(b"G")
            crowd.append(s)
        except OSError:
            refused += 1
    fds_peak = holder.fds()
    out = os.path.join(work, "got.mp3")
    results = []
    end = time.time() + hold
    next_drip = time.time() + drip
    while time.time() < end:
        if time.time() >= next_drip:
            for s in crowd:
                try:
                    s.send(b"E")
                except OSError:
                    pass
            next_drip += drip
        if len(results) < 3:
            code, _ = seeker.cli("search", "crowded", "song")
            if os.path.exists(out):
                os.remove(out)
            gcode, _ = seeker.cli("get", "crowded song.mp3", "--out", out)
            same = gcode == 0 and open(out, "rb").read() == open(os.path.join(song, "crowded song.mp3"), "rb").read()
            results.append((code == 0, same))
        fds_peak = max(fds_peak, holder.fds())
        time.sleep(0.5)
    closed = 0
    for s in crowd:
        s.setblocking(False)
        try:
            if s.recv(1) == b"":
                closed += 1
        except BlockingIOError:
            pass
        except OSError:
            closed += 1
    ok = sum(1 for found, same in results if found and same)
    print(f"slow-crowd: {len(crowd)} connections held against the holder ({refused} refused at connect),"
          f" each dripping a byte every {drip:.0f} s for {hold:.0f} s; holder's open descriptors at most {fds_peak};"
          f" {closed} of the crowd closed by the holder; searches and downloads meanwhile:"
          f" {ok} of {len(results)} found and downloaded identical bytes")
    for s in crowd:
        s.close()
    for n in (seeker, holder):
        n.stop()


# --- The control port ------------------------------------------------------------------------

def control(work):
    empty = share_dir(work, "c", [])
    node = Node(work, ["gnutella", "node", "--listen", "127.0.0.1:0", "--share", empty,
                       "--control", "127.0.0.1:0", "--min-peers", "0"])
    host, port = parse(node.control)
    # What a web page's fetch(url, {method: "POST", mode: "no-cors", body}) sends.
    conn = http.client.HTTPConnection(host, port, timeout=10)
    try:
        conn.request("POST", "/", body='{"cmd":"crash"}\n', headers={"Content-Type": "text/plain"})
        reply = conn.getresponse().read()
    except (http.client.HTTPException, OSError) as e:
        reply = f"({type(e).__name__}: the connection was closed)"
    time.sleep(0.5)
    print(f"control: an HTTP POST of {{\"cmd\":\"crash\"}} got {reply!r}; node still running: {node.alive()}")
    s = socket.create_connection((host, port), timeout=10)
    s.sendall(b'{"cmd":"crash"}\n')
    answer = s.makefile().readline().strip()
    time.sleep(0.5)
    print(f"control: a request without the token got {answer}; node still running: {node.alive()}")
    code, out = node.cli("stats")
    print(f"control: `p2plab stats` (which reads the token file) exit code {code}")
    for line in subprocess.run(["ls", "-l", os.path.join(work, "run")], capture_output=True, text=True).stdout.splitlines()[1:]:
        print(f"control: token file {line}")
    node.stop()


ATTACKS = {"napster-noread": napster_noread, "gnutella-noread": gnutella_noread,
           "slow-crowd": slow_crowd, "control": control}


def main():
    names = sys.argv[1:] or ["all"]
    if names == ["all"]:
        names = list(ATTACKS)
    unknown = [n for n in names if n not in ATTACKS]
    if unknown:
        raise SystemExit(f"unknown attack {unknown[0]!r}; expected one of: {', '.join(ATTACKS)}, all")
    if not os.path.exists(BIN):
        build()
    for name in names:
        work = tempfile.mkdtemp(prefix="p2plab-attack-")
        try:
            ATTACKS[name](work)
        finally:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
