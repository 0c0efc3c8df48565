#!/usr/bin/env python3
"""Swarm figures of `specstudio serve` (issue 13): the seed with 2 read replicas
deployed on a 3-node Docker Swarm (scripts/swarm.sh) and on one Docker host, in
the same run, and the time to recover a replica whose node is lost.

    scripts/bench-swarm.py [--rounds 2] [--rows 200] [--keep]

1. Deploy, each round on both engines (the order alternates from round to
   round): POST /api/deployments -> `running` with 2 healthy replicas; then
   ROWS rows inserted through the Master endpoint in one client call, and the
   time until every Replica endpoint counts them; then DELETE -> 404.
   "POST -> rows on every replica" is the sum of the first two.
2. Recovery (the swarm only, once, last: it kills a node): a replica's node
   stopped with `scripts/swarm.sh stop-node` (its dockerd and containers
   KILLed); times until the deployment is `degraded` naming the node, then
   until it is `running` again with 2 healthy replicas (the replica re-created
   on a surviving node from an empty data dir, caught up), then until that
   replica serves every row.

Needs root (the swarm), dockerd, the image specstudio/mysql:local
(bash images/mysql/build.sh) and the mariadb client (`mysql`). python3 stdlib
only. Talks only to 127.0.0.1. Builds the server (debug, into
$CARGO_TARGET_DIR or target/) unless SPECSTUDIO_BIN is set. The password goes
in MYSQL_PWD, never in argv. Every deployment is deleted, both servers stopped
and the swarm torn down on exit, also on errors. Refuses to run while a swarm
is up (scripts/swarm.sh is a machine-wide singleton).
"""

import argparse
import json
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "examples" / "serverless-mysql-master-replica.yaml"
SWARM = ROOT / "scripts" / "swarm.sh"
STATE = Path(os.environ.get("SWARM_STATE", "/run/specstudio-swarm.env"))
IMAGE = "specstudio/mysql:local"
IMAGE_MAP = "docker.io/bitnami/mysql:*=" + IMAGE
USER, DB = "appuser", "appdb"
HTTP = urllib.request.build_opener(urllib.request.ProxyHandler({}))
T0 = time.monotonic()


class BenchError(Exception):
    pass


def log(msg):
    print(f"[bench-swarm {time.monotonic() - T0:7.1f}s] {msg}", file=sys.stderr, flush=True)


class Server:
    def __init__(self, binary, workdir, name, flags, token):
        self.name, self.token, self.deployments = name, token, []
        self.dir = workdir / name
        self.dir.mkdir(parents=True)
        env = dict(os.environ, SPECSTUDIO_TOKEN=token, SPECSTUDIO_IDLE_PAUSE_AFTER="0")
        env.setdefault("SPECSTUDIO_LOG", "info")
        cmd = [str(binary), "serve", "--addr", "127.0.0.1:0", "--dist-dir", "/nonexistent",
               "--data-dir", str(self.dir / "data"), "--image-map", IMAGE_MAP,
               "--idle-stop-after", "3600", *flags]
        with open(self.dir / "stdout.log", "w") as out, open(self.dir / "stderr.log", "w") as err:
            self.proc = subprocess.Popen(cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=env)
        self.base = None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and self.proc.poll() is None:
            m = re.search(r"^specstudio listening on (http://127\.0\.0\.1:\d+)",
                          (self.dir / "stdout.log").read_text(), re.M)
            if m:
                self.base = m.group(1)
                break
            time.sleep(0.05)
        if not self.base:
            self.stop()
            raise BenchError(f"[{name}] the server did not start: {(self.dir / 'stderr.log').read_text()[-2000:]}")
        log(f"[{name}] server at {self.base} ({' '.join(flags) or 'one Docker host'})")

    def call(self, method, path, body=None, auth=False, timeout=30):
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"} if body is not None else {}
        if auth:
            headers["Authorization"] = "Bearer " + self.token
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        try:
            with HTTP.open(req, timeout=timeout) as r:
                status, raw = r.status, r.read()
        except urllib.error.HTTPError as e:
            status, raw = e.code, e.read()
        try:
            return status, json.loads(raw) if raw else None
        except ValueError:
            return status, raw.decode(errors="replace")

    def view(self, dep_id):
        status, v = self.call("GET", f"/api/deployments/{dep_id}")
        if status != 200:
            raise BenchError(f"[{self.name}] GET {dep_id} -> {status}: {v}")
        return v

    def deploy(self, password):
        params = {"masterInstanceType": "t3.small", "replicaInstanceType": "e2-medium",
                  "mysqlUsername": USER, "mysqlDatabase": DB, "mysqlPassword": password,
                  "numReadReplicas": 2}
        status, r = self.call("POST", "/api/deployments", {"spec": SEED.read_text(), "params": params}, auth=True)
        if status != 202:
            raise BenchError(f"[{self.name}] POST /api/deployments -> {status}: {r}")
        self.deployments.append(r["id"])
        return r["id"]

    def wait_view(self, dep_id, done, what, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            v = self.view(dep_id)
            if done(v):
                return v
            if v.get("status") == "failed":
                raise BenchError(f"[{self.name}] {dep_id} failed: {v.get('message')}")
            time.sleep(0.2)
        raise BenchError(f"[{self.name}] {dep_id}: not {what} after {timeout:.0f} s")

    def wait_running(self, dep_id, timeout):
        def done(v):
            healthy = sum(1 for r in v.get("replication") or [] if r.get("healthy"))
            return v.get("status") == "running" and healthy == 2 and len(v.get("containers", [])) == 3
        return self.wait_view(dep_id, done, "running with 2 healthy replicas", timeout)

    def delete(self, dep_id, timeout=180):
        status, r = self.call("DELETE", f"/api/deployments/{dep_id}", auth=True)
        if status not in (202, 404):
            raise BenchError(f"[{self.name}] DELETE {dep_id} -> {status}: {r}")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.call("GET", f"/api/deployments/{dep_id}")[0] == 404:
                self.deployments.remove(dep_id)
                return
            time.sleep(0.2)
        raise BenchError(f"[{self.name}] {dep_id} still there {timeout} s after DELETE")

    def stop(self):
        for dep_id in list(self.deployments):
            try:
                self.delete(dep_id)
            except Exception as e:  # noqa: BLE001 - keep cleaning up
                log(f"[{self.name}] WARNING: deleting {dep_id}: {e}")
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


def ports(view, resource):
    """Per-replica endpoints of `resource` when it has any, else its service endpoint(s)."""
    eps = [e for e in view.get("endpoints", []) if e.get("resource") == resource]
    chosen = [e for e in eps if e.get("kind") == "replica"] or [e for e in eps if e.get("kind") == "service"]
    for e in chosen:
        if e.get("host") != "127.0.0.1":
            raise BenchError(f"endpoint {e} is not on 127.0.0.1")
    return [int(e["port"]) for e in chosen]


def mysql(port, password, sql, timeout=60):
    cmd = ["mysql", "--no-defaults", "-h", "127.0.0.1", "-P", str(port), "-u", USER, f"--database={DB}",
           "--batch", "--skip-column-names", "-e", sql]
    try:
        r = subprocess.run(cmd, env=dict(os.environ, MYSQL_PWD=password), capture_output=True, text=True,
                           timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise BenchError(f"mysql on port {port} did not answer within {timeout} s") from None
    if r.returncode != 0:
        raise BenchError(f"mysql on port {port}: {r.stderr.strip()}")
    return r.stdout.strip()


def write_rows(port, password, start, count):
    values = ", ".join(f"({i}, 'row-{i}')" for i in range(start, start + count))
    mysql(port, password, f"CREATE TABLE IF NOT EXISTS t (id INT PRIMARY KEY, v VARCHAR(20)); "
                          f"INSERT INTO t VALUES {values}")


def wait_rows(port, password, n, timeout=120):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = mysql(port, password, "SELECT COUNT(*) FROM t", timeout=10)
            if last == str(n):
                return
        except BenchError as e:
            last = str(e)
        time.sleep(0.05)
    raise BenchError(f"replica endpoint {port} has not {n} rows after {timeout} s (last: {last})")


def one_deploy(server, password, rows, timeout):
    t0 = time.monotonic()
    dep = server.deploy(password)
    v = server.wait_running(dep, timeout)
    t_running = time.monotonic() - t0
    t1 = time.monotonic()
    write_rows(ports(v, "Master")[0], password, 0, rows)
    for p in ports(v, "Replica"):
        wait_rows(p, password, rows)
    t_rows = time.monotonic() - t1
    t2 = time.monotonic()
    server.delete(dep)
    t_delete = time.monotonic() - t2
    log(f"[{server.name}] POST -> running {t_running:.1f} s; {rows} rows on both replicas {t_rows:.2f} s; "
        f"DELETE {t_delete:.1f} s")
    return {"running": t_running, "rows": t_rows, "total": t_running + t_rows, "delete": t_delete}


def recovery(server, password, rows, timeout):
    dep = server.deploy(password)
    v = server.wait_running(dep, timeout)
    write_rows(ports(v, "Master")[0], password, 0, rows)
    for p in ports(v, "Replica"):
        wait_rows(p, password, rows)
    victim = next((c for c in reversed(v["containers"])
                   if c.get("resource") == "Replica" and c.get("node") not in (None, "swarm-node1")), None)
    if not victim:
        raise BenchError(f"no replica on a worker node: {json.dumps(v['containers'])}")
    node = victim["node"]
    t0 = time.monotonic()
    subprocess.run([str(SWARM), "stop-node", node.removeprefix("swarm-node")], check=True)
    server.wait_view(dep, lambda v: v.get("status") == "degraded" and node in (v.get("message") or ""),
                     f"degraded naming {node}", timeout)
    t_degraded = time.monotonic() - t0
    v = server.wait_running(dep, timeout)
    t_running = time.monotonic() - t0
    for p in ports(v, "Replica"):
        wait_rows(p, password, rows)
    t_rows = time.monotonic() - t0
    now_on = next(c.get("node") for c in v["containers"] if c["name"] == victim["name"])
    if now_on == node:
        raise BenchError(f"{victim['name']} still on {node}")
    log(f"[{server.name}] {node} stopped -> degraded {t_degraded:.1f} s, running again {t_running:.1f} s "
        f"({victim['name']} now on {now_on}), {rows} rows on it {t_rows:.1f} s")
    server.delete(dep)
    return {"node": node, "degraded": t_degraded, "running": t_running, "rows": t_rows}


def fmt(xs):
    xs = sorted(xs)
    return f"{statistics.median(xs):.2f} s (min {xs[0]:.2f}, max {xs[-1]:.2f}, n={len(xs)})"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=2, help="deploys per engine (default 2, at most 10)")
    ap.add_argument("--rows", type=int, default=200, help="rows written through the master (default 200)")
    ap.add_argument("--no-recovery", action="store_true", help="skip the lost-node part")
    ap.add_argument("--timeout", type=float, default=240, help="bound on each wait (s)")
    ap.add_argument("--keep", action="store_true", help="keep the work dir (server logs)")
    args = ap.parse_args()
    if not 1 <= args.rounds <= 10 or not 1 <= args.rows <= 5000:
        ap.error("--rounds must be 1..10 and --rows 1..5000")
    if os.geteuid() != 0:
        log("needs root (scripts/swarm.sh)")
        return 1
    if not shutil.which("mysql"):
        log("the mariadb client is missing: apt-get install -y mariadb-client")
        return 1
    if subprocess.run(["docker", "image", "inspect", IMAGE], capture_output=True).returncode != 0:
        log(f"image {IMAGE} missing: bash images/mysql/build.sh")
        return 1
    if STATE.exists():
        log(f"a swarm is up ({STATE}): another run or test owns it; not touching it")
        return 1
    binary = os.environ.get("SPECSTUDIO_BIN")
    if not binary:
        log("building the server (cargo build -p specstudio)")
        subprocess.run(["cargo", "build", "-q", "-p", "specstudio"], cwd=ROOT, check=True)
        binary = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / "debug" / "specstudio"
    workdir = Path(tempfile.mkdtemp(prefix="bench-swarm-"))
    token, password = "bench-" + secrets.token_hex(12), "Pw" + secrets.token_hex(10)
    servers = []
    swarm_up = False
    started = time.monotonic()
    try:
        t = time.monotonic()
        subprocess.run([str(SWARM), "up", "3"], check=True, stdout=subprocess.DEVNULL)
        swarm_up = True
        log(f"swarm up: {time.monotonic() - t:.1f} s")
        env = dict(line.split("=", 1) for line in STATE.read_text().split() if "=" in line)
        flags = ["--engine", "swarm", "--docker-host", env["SWARM_MANAGER"]]
        for i in range(1, int(env["SWARM_NODES"]) + 1):
            flags += ["--swarm-node", f"swarm-node{i}={env[f'SWARM_NODE{i}_HOST']}"]
        host = Server(binary, workdir, "host", [], token)
        servers.append(host)
        swarm = Server(binary, workdir, "swarm", flags, token)
        servers.append(swarm)
        results = {"host": [], "swarm": []}
        for r in range(args.rounds):
            order = [host, swarm] if r % 2 == 0 else [swarm, host]
            for s in order:
                results[s.name].append(one_deploy(s, password, args.rows, args.timeout))
        rec = None if args.no_recovery else recovery(swarm, password, args.rows, args.timeout)
        print(f"\n## bench-swarm: seed with 2 replicas, {args.rows} rows, {args.rounds} round(s), "
              f"load average at end {os.getloadavg()[0]:.1f}\n")
        print("| | one Docker host | 3-node swarm |\n|---|---|---|")
        for key, label in [("running", "POST → running, 2 healthy replicas"),
                           ("rows", f"{args.rows} rows through the master → on every replica"),
                           ("total", "POST → rows on every replica"),
                           ("delete", "DELETE → record gone, nothing left")]:
            print(f"| {label} | {fmt([x[key] for x in results['host']])} "
                  f"| {fmt([x[key] for x in results['swarm']])} |")
        if rec:
            print(f"\nLost replica ({rec['node']} stopped): degraded naming it {rec['degraded']:.1f} s, "
                  f"re-created on a surviving node and running again {rec['running']:.1f} s, "
                  f"serving all {args.rows} rows {rec['rows']:.1f} s (all from the node's loss)")
        print(f"\nwhole run: {time.monotonic() - started:.0f} s")
        return 0
    except (BenchError, subprocess.CalledProcessError) as e:
        log(f"FAILED: {e}")
        return 1
    finally:
        for s in servers:
            s.stop()
        if swarm_up:
            subprocess.run([str(SWARM), "down"], stdout=subprocess.DEVNULL)
        if args.keep:
            log(f"work dir kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
