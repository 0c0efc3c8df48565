#!/usr/bin/env python3
"""Where a wake from `stopped` goes without specstudio (issue 14): one
specstudio/mysql container per variant (its own name and label, removed at the
end) with a published 127.0.0.1 port and an initialised data directory, then N
rounds of `docker stop` / `docker start`, timing `docker start` returning,
the port lookup, and connect → the first byte of MariaDB's handshake polled
every 3 ms; the container's own log lines, stamped by Docker on arrival, give
the entrypoint's part (its first line → `exec mariadbd`) and MariaDB's
(`exec mariadbd` → `ready for connections`). Variants (server flags passed as
MYSQL_EXTRA_FLAGS) alternate round by round. Talks only to 127.0.0.1.

    scripts/bench-mariadb-start.py [--rounds N] [--image TAG ...] [--variant 'FLAGS' ...]
    # default: 3 rounds, specstudio/mysql:local, no extra flags; every image
    # runs every variant
"""
import argparse
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import time
from datetime import datetime

PREFIX = "specstudio-bench-mariadb-start"


def sh(*a, env=None):
    return subprocess.run(a, capture_output=True, text=True, env=env)


def host_port(name):
    ports = json.loads(sh("docker", "inspect", name).stdout)[0]["NetworkSettings"]["Ports"]["3306/tcp"]
    return int(ports[0]["HostPort"]) if ports else None


def first_byte(port, deadline):
    """Time (monotonic) the server's handshake first arrives; None past deadline."""
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                if s.recv(1):
                    return time.monotonic()
        except OSError:
            pass
        time.sleep(0.003)
    return None


def stamp(line):
    """Docker's arrival time of a `docker logs --timestamps` line (s)."""
    head = line.split(" ", 1)[0]
    day, frac = head.rstrip("Z").split(".") if "." in head else (head.rstrip("Z"), "0")
    return datetime.fromisoformat(day).timestamp() + float("0." + frac[:6])


def phases(name, since):
    """(entrypoint ms, mariadbd ms) of the last start, from its log."""
    logs = sh("docker", "logs", "--timestamps", "--since", str(since), name)
    first = exec_at = ready = None
    for line in (logs.stdout + logs.stderr).splitlines():
        if "[entrypoint]" in line and first is None:
            first = stamp(line)
        if "exec mariadbd" in line:
            exec_at = stamp(line)
        if "ready for connections" in line:
            ready = stamp(line)
    ent = 1000 * (exec_at - first) if first and exec_at else None
    srv = 1000 * (ready - exec_at) if exec_at and ready else None
    return ent, srv


def median(xs):
    xs = [x for x in xs if x is not None]
    return f"{statistics.median(xs):.0f}" if xs else "—"


def label(image, flags):
    return f"{image}, {flags or 'no extra flags'}"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("rounds_pos", nargs="?", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--image", action="append", default=None,
                    help="image tag (default specstudio/mysql:local); repeat to compare builds")
    ap.add_argument("--variant", action="append", default=None,
                    help="MYSQL_EXTRA_FLAGS of one variant ('' for none); repeat to compare")
    a = ap.parse_args()
    rounds = a.rounds_pos or a.rounds
    images = a.image or ["specstudio/mysql:local"]
    variants = [(img, f) for img in images for f in (a.variant if a.variant is not None else [""])]
    names = [f"{PREFIX}-{i}" for i in range(len(variants))]
    password = secrets.token_hex(12)
    results = {i: {"start": [], "first": [], "ent": [], "srv": []} for i in range(len(variants))}
    try:
        for name, (image, flags) in zip(names, variants):
            sh("docker", "rm", "-f", name)
            r = sh("docker", "run", "-d", "--name", name, "-l", "org.specstudio.bench=mariadb-start",
                   "-e", "MYSQL_ROOT_PASSWORD", "-e", "MYSQL_DATABASE=d", "-e", "MYSQL_REPLICATION_MODE=master",
                   "-e", "MYSQL_EXTRA_FLAGS", "-p", "127.0.0.1::3306", image,
                   env=dict(os.environ, MYSQL_ROOT_PASSWORD=password, MYSQL_EXTRA_FLAGS=flags))  # never in argv
            if r.returncode != 0:
                sys.exit(f"docker run failed: {r.stderr.strip()}")
            if first_byte(host_port(name), time.monotonic() + 180) is None:
                sys.exit(f"{name} never answered")
        time.sleep(1)
        for rnd in range(rounds):
            order = list(range(len(variants)))
            if rnd % 2:
                order.reverse()
            for i in order:
                name = names[i]
                sh("docker", "stop", "-t", "30", name)
                since = time.time()
                t0 = time.monotonic()
                sh("docker", "start", name)
                t1 = time.monotonic()
                port = host_port(name)
                t2 = time.monotonic()
                g = first_byte(port, time.monotonic() + 60)
                time.sleep(0.3)
                ent, srv = phases(name, since - 1)
                res = results[i]
                res["start"].append(1000 * (t1 - t0))
                res["first"].append(1000 * (g - t0) if g else None)
                res["ent"].append(ent)
                res["srv"].append(srv)
                answered = f"{1000 * (g - t0):.0f} ms" if g else "never (60 s)"
                print(f"round {rnd + 1} variant {i} ({label(*variants[i])}): docker start returned "
                      f"{1000 * (t1 - t0):.0f} ms, port lookup {1000 * (t2 - t1):.0f} ms, first byte {answered} "
                      f"after the start call; entrypoint {ent and f'{ent:.0f}'} ms, exec mariadbd → ready "
                      f"{srv and f'{srv:.0f}'} ms")
                time.sleep(1)
        print(f"\nload average now {os.getloadavg()[0]:.1f}; medians over {rounds} rounds (ms):")
        print("| image, MYSQL_EXTRA_FLAGS | docker start returns | entrypoint | exec → ready | start call → first byte |")
        print("|---|---:|---:|---:|---:|")
        for i, v in enumerate(variants):
            r = results[i]
            print(f"| {label(*v)} | {median(r['start'])} | {median(r['ent'])} | {median(r['srv'])} "
                  f"| {median(r['first'])} |")
    finally:
        for name in names:
            sh("docker", "rm", "-f", name)


if __name__ == "__main__":
    main()
