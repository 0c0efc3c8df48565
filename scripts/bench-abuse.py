#!/usr/bin/env python3
"""Abuse benchmark: the server's peak memory and /healthz latency under the
lint-amplification and slow-client attacks (issue 15). Loopback only, bounded.

    scripts/bench-abuse.py [path/to/specstudio]   # default: target/release, else target/debug

Prints one line per phase: peak RSS of the server (VmHWM) and the worst and
median /healthz latency measured every 50 ms while the attack runs; for each
amplification request alone, its peak RSS above the server's RSS before it
(VmHWM reset through /proc/PID/clear_refs) and the server's CPU seconds.
"""
import http.client
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def binary():
    if len(sys.argv) > 1:
        return sys.argv[1]
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    for kind in ("release", "debug"):
        p = os.path.join(target, kind, "specstudio")
        if os.path.exists(p):
            return p
    sys.exit("build the server first: cargo build --release -p specstudio")


def start(exe, data):
    proc = subprocess.Popen(
        [exe, "serve", "--addr", "127.0.0.1:0", "--dist-dir", "/nonexistent",
         "--docker-host", "unix:///nonexistent/docker.sock", "--data-dir", data,
         "--max-connections", "512"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        env={**os.environ, "SPECSTUDIO_TOKEN": "bench-token", "SPECSTUDIO_LOG": "warn"})
    for line in proc.stdout:
        m = re.match(r"specstudio listening on http://(\S+)", line)
        if m:
            host, port = m.group(1).rsplit(":", 1)
            threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()
            return proc, host, int(port)
    sys.exit("the server did not start")


def status_kb(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def reset_peak(pid):
    """Reset the process's peak RSS (VmHWM) to its current RSS (Linux >= 4.0)."""
    with open(f"/proc/{pid}/clear_refs", "w") as f:
        f.write("5")


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measured(proc, what, fn):
    """Run fn() alone; print its peak RSS above the RSS before it and the
    server's CPU seconds."""
    time.sleep(0.3)
    reset_peak(proc.pid)
    base = status_kb(proc.pid, "VmRSS")
    c0 = cpu_seconds(proc.pid)
    t0 = time.monotonic()
    out = fn()
    wall = time.monotonic() - t0
    peak = status_kb(proc.pid, "VmHWM") - base
    print(f"  {what}: {out}; {wall:.2f} s, peak +{peak / 1024:.1f} MiB over {base / 1024:.0f} MiB, "
          f"server CPU {cpu_seconds(proc.pid) - c0:.2f} s")
    return out


def request(host, port, method, path, body=None, timeout=120):
    c = http.client.HTTPConnection(host, port, timeout=timeout)
    c.request(method, path, body=body, headers={"Host": "127.0.0.1", "Content-Type": "text/plain"})
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, data


class Prober:
    """GET /healthz every 50 ms; latencies in ms (a failure counts as its time)."""

    def __init__(self, host, port):
        self.host, self.port = host, port
        self.lat, self.fail = [], 0
        self.stop = threading.Event()
        self.t = threading.Thread(target=self.run, daemon=True)

    def run(self):
        while not self.stop.is_set():
            t0 = time.monotonic()
            try:
                s, _ = request(self.host, self.port, "GET", "/healthz", timeout=30)
                if s != 200:
                    self.fail += 1
            except OSError:
                self.fail += 1
            self.lat.append((time.monotonic() - t0) * 1000)
            time.sleep(0.05)

    def __enter__(self):
        self.t.start()
        return self

    def __exit__(self, *a):
        self.stop.set()
        self.t.join()

    def summary(self):
        if not self.lat:
            return "no probe"
        return (f"/healthz max {max(self.lat):.0f} ms, median {statistics.median(self.lat):.1f} ms, "
                f"{len(self.lat)} probes, {self.fail} non-200")


def one_line_mappings(target_bytes):
    lines, size, i = [], 0, 0
    while size < target_bytes - 32:
        line = f"k{i:06d}: {{}}\n"
        lines.append(line)
        size += len(line)
        i += 1
    return "".join(lines).encode(), i


def amplification(proc, host, port):
    # 5 MiB of one-line mappings: one diagnostic per key
    spec, keys = one_line_mappings(5 * 1024 * 1024)
    # the largest such spec the server still checks and stores: its work
    # budget (lint::MAX_WORK) is 150,000 units = 50,000 keys of 3 units
    stored, stored_keys = one_line_mappings(49_900 * 12)
    print(f"amplification: {keys} keys ({len(spec) / 1048576:.1f} MiB); stored spec {stored_keys} keys "
          f"({len(stored) / 1048576:.2f} MiB)")
    with Prober(host, port) as p:
        def validate():
            s, report = request(host, port, "POST", "/api/validate", spec)
            return f"{s}, report {len(report) / 1024:.1f} KiB"

        def store(body):
            def run():
                s, created = request(host, port, "POST", "/api/specs", body)
                run.id = json.loads(created).get("id")
                return f"{s} {created[:90].decode(errors='replace')}"
            return run

        measured(proc, "POST /api/validate 5 MiB", validate)
        measured(proc, "POST /api/specs 5 MiB", store(spec))
        run = store(stored)
        measured(proc, f"POST /api/specs {stored_keys} keys", run)
        sid = run.id
        sizes = []

        def get():
            st, body = request(host, port, "GET", f"/api/specs/{sid}")
            sizes.append((st, len(body)))

        def gets():
            threads = [threading.Thread(target=get) for _ in range(3)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            return f"{[x[0] for x in sizes]} ({max(x[1] for x in sizes) / 1048576:.2f} MiB each)"

        measured(proc, "3 concurrent GET /api/specs/{id}", gets)
    print(f"  peak RSS {status_kb(proc.pid, 'VmHWM') / 1024:.0f} MiB (since the last request), "
          f"now {status_kb(proc.pid, 'VmRSS') / 1024:.0f} MiB; {p.summary()}")


def slow_clients(proc, host, port, n=600, hold=12):
    socks = []
    with Prober(host, port) as p:
        for _ in range(n):
            try:
                s = socket.create_connection((host, port), timeout=5)
                s.sendall(b"POST /api/validate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Le")
                socks.append(s)
            except OSError:
                break
        time.sleep(hold)
    closed = 0
    for s in socks:
        s.setblocking(False)
        try:
            if s.recv(1) == b"":
                closed += 1
        except BlockingIOError:
            pass
        except OSError:
            closed += 1
        s.close()
    print(f"slow clients: {len(socks)} connections with incomplete headers held {hold} s: "
          f"{closed} closed by the server")
    print(f"  peak RSS {status_kb(proc.pid, 'VmHWM') / 1024:.0f} MiB; {p.summary()}")


def main():
    exe = binary()
    with tempfile.TemporaryDirectory() as d:
        proc, host, port = start(exe, os.path.join(d, "data"))
        try:
            print(f"server {exe} (pid {proc.pid}), idle RSS {status_kb(proc.pid, 'VmRSS') / 1024:.0f} MiB")
            amplification(proc, host, port)
            slow_clients(proc, host, port)
        finally:
            proc.terminate()
            proc.wait(timeout=20)


if __name__ == "__main__":
    main()
