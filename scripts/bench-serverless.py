#!/usr/bin/env python3
"""Serverless figures of `specstudio serve` (issue 5): wake latency through the
proxy endpoint with and without the warm pool, proxy vs direct throughput, and
the time autoscaling takes to add a replica.

    scripts/bench-serverless.py [--rounds 5] [--sysbench-secs 15] [--sysbench-reps 3]
                                [--only wake,throughput,autoscale] [--keep]

1. Wake: the seed (`minimumNodesInPool: 1`) and scripts/bench/serverless-no-pool.yaml
   (`minimumNodesInPool: 0`) deployed side by side on a server started with
   `--idle-stop-after 3`. Each round waits until *both* deployments report
   `stopped`, then times a real client through the Master endpoint:
   `mysql -h 127.0.0.1 -P <port> -u appuser --database=appdb -e 'SELECT COUNT(*) FROM t'`
   (process start -> exit, so it includes the client's own start-up, ~5 ms),
   then the same command again while awake ("reconnect"); with the default
   `--wake-client greeting` the wake is instead timed from connect() to the
   first byte of the server's handshake (a raw socket), and the `mysql`
   command run right after checks the rows. Variants alternate
   order from round to round. `--wake-from paused` times the paused tier
   instead: the server runs with `--idle-pause-after 2 --idle-stop-after 600`
   and each round waits for `paused` (containers frozen, memory kept).
2. Throughput: sysbench `oltp_read_only` against the Master endpoint (proxy) and
   the master container's published `hostPort` (direct), alternating, on a
   server with `--idle-stop-after 600`.
3. Autoscaling: scripts/bench/serverless-autoscale.yaml (Replica autoscaling
   1..2, 3 "minutes" over 60 %) on a server with `--autoscale-minute-secs 1`;
   CPU load on the Replica service endpoint with mysqlslap; times (a) load start
   -> a second Replica container is routable (polled), (b) the autoscaling event
   (SSE `ts`) -> routable.

Needs: dockerd, the image specstudio/mysql:local (bash images/mysql/build.sh),
the mariadb client (`mysql`, `mysqlslap`: apt-get install mariadb-client) and
`sysbench` (apt-get install sysbench). python3 stdlib only. Talks only to
127.0.0.1. Builds the server in release mode unless SPECSTUDIO_BIN is set;
SPECSTUDIO_BENCH_IMAGE=TAG runs another build of the image (e.g. one with an
entrypoint under test, `bash images/mysql/build.sh TAG`).
Passwords travel in MYSQL_PWD / a 0600 sysbench config file, never in argv.
Every deployment is deleted and every server stopped on exit, also on errors.
"""

import argparse
import codecs
import json
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "examples" / "serverless-mysql-master-replica.yaml"
NO_POOL = ROOT / "scripts" / "bench" / "serverless-no-pool.yaml"
AUTOSCALE = ROOT / "scripts" / "bench" / "serverless-autoscale.yaml"
# SPECSTUDIO_BENCH_IMAGE: another build of the image (`bash images/mysql/build.sh TAG`)
IMAGE = os.environ.get("SPECSTUDIO_BENCH_IMAGE", "specstudio/mysql:local")
IMAGE_MAP = "docker.io/bitnami/mysql:*=" + IMAGE
# --proxy-threads: the server's endpoint proxy threads (None: its default)
PROXY_THREADS = None
USER = "appuser"
DB = "appdb"
ROWS = 3
LOAD_QUERY = "SELECT BENCHMARK(2000000, SHA2('x',256))"
LOOPBACK = ("127.0.0.1", "localhost")

HTTP = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never an http_proxy


class BenchError(Exception):
    pass


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def wall_ms():
    """Milliseconds since the Unix epoch: the clock of the server's event `ts`."""
    return time.time() * 1000.0


def stats(xs):
    return {"n": len(xs), "median": statistics.median(xs), "min": min(xs), "max": max(xs)} if xs else None


def fmt_ms(x):
    return "–" if x is None else (f"{x:.0f} ms" if x >= 100 else f"{x:.1f} ms")


def fmt_s(x_ms):
    return "–" if x_ms is None else f"{x_ms / 1000:.1f} s"


# ---------------------------------------------------------------------------
# fixtures


def check_fixtures():
    """The fixtures are the seed with a few values changed; warn when the seed moved."""
    seed = SEED.read_text()
    expect_no_pool = seed.replace("minimumNodesInPool: 1", "minimumNodesInPool: 0")
    old = ("        maxReplicas: 5\n", "        overUtilizedThreshold: 80\n")
    new = ("        maxReplicas: 2\n", "        overUtilizedThreshold: 60\n")
    expect_auto = seed
    for o, n in zip(old, new):
        expect_auto = expect_auto.replace(o, n)

    def body(p):
        return "".join(l for l in p.read_text().splitlines(keepends=True) if not l.startswith("# "))

    for path, want in ((NO_POOL, expect_no_pool), (AUTOSCALE, expect_auto)):
        if body(path) != want:
            log(f"WARNING: {path.relative_to(ROOT)} is no longer the seed with its documented changes; regenerate it")
    auto = body(AUTOSCALE)
    for needle in ("minReplicas: 1", "maxReplicas: 2", "overUtilizedMinutesBeforeScalingUp: 3", "overUtilizedThreshold: 60"):
        if needle not in auto:
            raise BenchError(f"{AUTOSCALE} lacks `{needle}`")
    if body(NO_POOL).count("minimumNodesInPool: 0") != 2:
        raise BenchError(f"{NO_POOL} must set minimumNodesInPool: 0 in both services")


# ---------------------------------------------------------------------------
# the server


class Server:
    def __init__(self, binary, workdir, name, flags, token):
        self.name = name
        self.token = token
        self.dir = workdir / name
        self.dir.mkdir(parents=True)
        self.deployments = []
        out = open(self.dir / "stdout.log", "w")
        err = open(self.dir / "stderr.log", "w")
        env = dict(os.environ, SPECSTUDIO_TOKEN=token)
        env.setdefault("SPECSTUDIO_LOG", "info")
        if PROXY_THREADS:
            env["SPECSTUDIO_PROXY_THREADS"] = str(PROXY_THREADS)
        cmd = [str(binary), "serve", "--addr", "127.0.0.1:0", "--dist-dir", "/nonexistent",
               "--data-dir", str(self.dir / "data"), "--image-map", IMAGE_MAP, *flags]
        log(f"[{name}] starting: specstudio serve … {' '.join(flags)}")
        self.proc = subprocess.Popen(cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=env)
        out.close()
        err.close()
        self.base = None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            m = re.search(r"^specstudio listening on (http://\S+)", (self.dir / "stdout.log").read_text(), re.M)
            if m:
                self.base = m.group(1).rstrip("/")
                break
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        if not self.base:
            tail = self.stderr_tail()
            self.stop()
            hint = ""
            if "unexpected argument" in tail:
                hint = " (this binary does not know a flag: is issue 5 built? set SPECSTUDIO_BIN or rebuild)"
            raise BenchError(f"[{name}] the server did not start{hint}:\n{tail}")
        host = self.base.split("//", 1)[1].rsplit(":", 1)[0]
        if host not in LOOPBACK:
            self.stop()
            raise BenchError(f"[{name}] server listens on {self.base}, expected 127.0.0.1")
        log(f"[{name}] server at {self.base}")

    def stderr_tail(self, n=40):
        try:
            return "\n".join((self.dir / "stderr.log").read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    def call(self, method, path, body=None, auth=False, timeout=30):
        """(status, parsed JSON or text)."""
        data = None
        headers = {}
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
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
            raise BenchError(f"GET /api/deployments/{dep_id} -> {status}: {v}")
        return v

    def status(self, dep_id):
        """Stored status from the (cheap) list; the full view probes containers live."""
        status, lst = self.call("GET", "/api/deployments")
        if status != 200:
            raise BenchError(f"GET /api/deployments -> {status}: {lst}")
        for d in lst:
            if d.get("id") == dep_id:
                return d.get("status"), d.get("message")
        return None, None

    def deploy(self, spec_path, password, text=None):
        params = {"masterInstanceType": "t3.small", "replicaInstanceType": "e2-medium",
                  "mysqlUsername": USER, "mysqlDatabase": DB, "mysqlPassword": password,
                  "numReadReplicas": 1}
        spec = spec_path.read_text() if text is None else text
        status, r = self.call("POST", "/api/deployments", {"spec": spec, "params": params}, auth=True)
        if status != 202:
            raise BenchError(f"[{self.name}] POST /api/deployments ({spec_path.name}) -> {status}: {r}")
        self.deployments.append(r["id"])
        log(f"[{self.name}] deployment {r['id']} ({spec_path.name})")
        return r["id"]

    def wait_status(self, dep_id, want, timeout, what=None):
        t0 = time.monotonic()
        last = None
        while time.monotonic() - t0 < timeout:
            st, msg = self.status(dep_id)
            last = (st, msg)
            if st in want:
                return st
            if st == "failed":
                raise BenchError(f"[{self.name}] deployment {dep_id} failed: {msg}")
            time.sleep(0.2)
        extra = ""
        try:
            v = self.view(dep_id)
            extra = f"; serverless={json.dumps(v.get('serverless'))}; containers=" + json.dumps(
                [{k: c.get(k) for k in ("name", "state", "routable")} for c in v.get("containers", [])])
        except Exception as e:  # noqa: BLE001 - evidence only
            extra = f"; view: {e}"
        raise BenchError(f"[{self.name}] {what or dep_id}: not {'/'.join(sorted(want))} after {timeout:.0f} s "
                         f"(last status {last[0]!r}, message {last[1]!r}){extra}")

    def delete_all(self, timeout=180):
        for dep_id in list(self.deployments):
            try:
                status, r = self.call("DELETE", f"/api/deployments/{dep_id}", auth=True)
                if status not in (200, 202, 204, 404):
                    log(f"[{self.name}] DELETE {dep_id} -> {status}: {r}")
                    continue
                t0 = time.monotonic()
                while time.monotonic() - t0 < timeout:
                    if self.call("GET", f"/api/deployments/{dep_id}")[0] == 404:
                        self.deployments.remove(dep_id)
                        log(f"[{self.name}] deleted {dep_id}")
                        break
                    time.sleep(0.3)
                else:
                    log(f"[{self.name}] WARNING: {dep_id} still present {timeout} s after DELETE")
            except Exception as e:  # noqa: BLE001 - keep cleaning up
                log(f"[{self.name}] WARNING: deleting {dep_id}: {e}")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


def service_endpoint(view, resource):
    eps = [e for e in view.get("endpoints", []) if e.get("kind") == "service" and e.get("resource") == resource]
    if len(eps) != 1:
        raise BenchError(f"expected one `kind: service` endpoint of {resource}, got: {json.dumps(view.get('endpoints'))}")
    if eps[0].get("host") not in LOOPBACK:
        raise BenchError(f"endpoint {eps[0]} is not on 127.0.0.1")
    return eps[0]


def container_host_port(view, resource, replica=0):
    cs = [c for c in view.get("containers", []) if c.get("resource") == resource and c.get("replica") == replica]
    if len(cs) != 1 or not cs[0].get("hostPort"):
        raise BenchError(f"no hostPort for {resource}[{replica}]: {json.dumps(view.get('containers'))}")
    return int(cs[0]["hostPort"])


def routable(view, resource):
    return [c for c in view.get("containers", []) if c.get("resource") == resource and c.get("routable")]


def autoscaling_of(view, resource):
    for a in view.get("autoscaling") or []:
        if a.get("resource") == resource:
            return a
    return None


# ---------------------------------------------------------------------------
# clients


def mysql(port, password, sql, timeout=120):
    """Runs the mariadb/mysql client; returns (ms from process start to exit, stdout)."""
    cmd = ["mysql", "--no-defaults", "-h", "127.0.0.1", "-P", str(port), "-u", USER, f"--database={DB}",
           "--batch", "--skip-column-names", "-e", sql]
    t0 = time.perf_counter()
    try:
        r = subprocess.run(cmd, env=dict(os.environ, MYSQL_PWD=password), capture_output=True, text=True,
                           timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise BenchError(f"mysql on port {port} did not answer within {timeout} s ({sql!r})") from None
    ms = (time.perf_counter() - t0) * 1000
    if r.returncode != 0:
        raise BenchError(f"mysql on port {port} exited {r.returncode} after {ms:.0f} ms: {r.stderr.strip()}")
    return ms, r.stdout.strip()


def first_answer(port, timeout=120):
    """Connects to 127.0.0.1:port and waits for the server's first bytes (the
    MySQL handshake); returns ms from connect() start to the first byte. The
    connection is then closed (the server counts an aborted connect)."""
    t0 = time.perf_counter()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            first = s.recv(1)
    except OSError as e:
        raise BenchError(f"no handshake from port {port}: {e}") from None
    ms = (time.perf_counter() - t0) * 1000
    if not first:
        raise BenchError(f"port {port} closed the connection without a handshake after {ms:.0f} ms")
    return ms


def create_table(port, password):
    sql = (f"CREATE TABLE IF NOT EXISTS t (id INT PRIMARY KEY, v VARCHAR(16)); "
           f"INSERT IGNORE INTO t VALUES {', '.join(f'({i}, {chr(39)}row{i}{chr(39)})' for i in range(1, ROWS + 1))}; "
           f"SELECT COUNT(*) FROM t")
    err = None
    for _ in range(20):
        try:
            _, out = mysql(port, password, sql)
            if out == str(ROWS):
                return
            err = f"unexpected count {out!r}"
        except BenchError as e:
            err = e
        time.sleep(1)
    raise BenchError(f"could not create table t through port {port}: {err}")


def sysbench_base(cfg, port, args):
    return ["sysbench", f"--config-file={cfg}", args.workload, "--db-driver=mysql", "--mysql-host=127.0.0.1",
            f"--mysql-port={port}", f"--mysql-user={USER}", f"--mysql-db={DB}", f"--tables={args.tables}",
            f"--table-size={args.table_size}"]


PING_LUA = """-- one `SELECT 1` round trip per event (bench-serverless.py ping-pong latency)
function thread_init()
  drv = sysbench.sql.driver()
  con = drv:connect()
end
function event()
  con:query("SELECT 1")
end
function thread_done()
  con:disconnect()
end
"""


def ping_run(cfg, lua, port, secs):
    """Mean and median microseconds of one `SELECT 1` round trip, one client thread."""
    cmd = ["sysbench", f"--config-file={cfg}", str(lua), "--db-driver=mysql", "--mysql-host=127.0.0.1",
           f"--mysql-port={port}", f"--mysql-user={USER}", f"--mysql-db={DB}", "--threads=1", f"--time={secs}",
           "--events=0", "--percentile=50", "--histogram=off", "run"]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=secs + 60, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise BenchError(f"sysbench ping on port {port} did not finish") from None
    m_ev = re.search(r"total number of events:\s+(\d+)", r.stdout)
    m_time = re.search(r"total time:\s+([\d.]+)s", r.stdout)
    m_p50 = re.search(r"50th percentile:\s+([\d.]+)", r.stdout)
    if r.returncode != 0 or not m_ev or not m_time or not m_p50:
        raise BenchError(f"sysbench ping on port {port} exited {r.returncode}:\n{r.stdout[-1500:]}\n{r.stderr[-1500:]}")
    return float(m_time.group(1)) / max(1, int(m_ev.group(1))) * 1e6, float(m_p50.group(1)) * 1000.0


def sysbench_run(cfg, port, args, secs):
    cmd = sysbench_base(cfg, port, args) + [f"--threads={args.threads}", f"--time={secs}", "--events=0",
                                            "--percentile=99", "--histogram=off", "run"]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=secs + 120, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise BenchError(f"sysbench on port {port} did not finish") from None
    m_tps = re.search(r"transactions:\s+(\d+)\s+\(([\d.]+) per sec", r.stdout)
    m_p99 = re.search(r"99th percentile:\s+([\d.]+)", r.stdout)
    m_err = re.search(r"ignored errors:\s+(\d+)", r.stdout)
    if r.returncode != 0 or not m_tps or not m_p99:
        raise BenchError(f"sysbench on port {port} exited {r.returncode}:\n{r.stdout[-1500:]}\n{r.stderr[-1500:]}")
    return float(m_tps.group(2)), float(m_p99.group(1)), int(m_err.group(1)) if m_err else 0


class SseReader(threading.Thread):
    """Collects a deployment's events (raw socket, HTTP/1.1, chunked or not), bounded."""

    MAX = 20000

    def __init__(self, base, dep_id):
        super().__init__(daemon=True)
        hostport = base.split("//", 1)[1]
        self.host, port = hostport.rsplit(":", 1)
        self.port = int(port)
        self.path = f"/api/deployments/{dep_id}/events"
        self.events = []  # dicts: seq, ts, kind, message, recv_ms
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.error = None

    def stop(self):
        self.stopping.set()

    def snapshot(self):
        with self.lock:
            return list(self.events)

    def run(self):
        try:
            self._run()
        except Exception as e:  # noqa: BLE001 - reported by the caller
            self.error = e

    def _run(self):
        sock = socket.create_connection((self.host, self.port), timeout=5)
        sock.settimeout(0.5)
        sock.sendall(f"GET {self.path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
                     f"Accept: text/event-stream\r\nConnection: close\r\n\r\n".encode())
        raw = b""
        head = None
        chunked = False
        chunk_state, remaining = "size", 0
        text = ""
        fields = {}
        dec = codecs.getincrementaldecoder("utf-8")(errors="replace")
        try:
            while not self.stopping.is_set():
                try:
                    data = sock.recv(65536)
                except socket.timeout:
                    continue
                if not data:
                    return
                raw += data
                if head is None:
                    if b"\r\n\r\n" not in raw:
                        continue
                    head, raw = raw.split(b"\r\n\r\n", 1)
                    lines = head.decode(errors="replace").split("\r\n")
                    if " 200 " not in lines[0] + " ":
                        raise BenchError(f"events stream: {lines[0]}")
                    chunked = any(l.lower().startswith("transfer-encoding:") and "chunked" in l.lower() for l in lines)
                body = b""
                if chunked:
                    while True:
                        if chunk_state == "size":
                            if b"\r\n" not in raw:
                                break
                            line, raw = raw.split(b"\r\n", 1)
                            remaining = int(line.split(b";")[0].strip() or b"0", 16)
                            if remaining == 0:
                                self.stopping.set()
                                break
                            chunk_state = "data"
                        elif chunk_state == "data":
                            take = raw[:remaining]
                            body += take
                            raw = raw[len(take):]
                            remaining -= len(take)
                            if remaining:
                                break
                            chunk_state = "crlf"
                        else:
                            if len(raw) < 2:
                                break
                            raw = raw[2:]
                            chunk_state = "size"
                else:
                    body, raw = raw, b""
                text += dec.decode(body)
                while "\n" in text:
                    line, text = text.split("\n", 1)
                    line = line.rstrip("\r")
                    if line == "":
                        if "data" in fields:
                            self._event(fields)
                        fields = {}
                    elif line.startswith(":"):
                        continue
                    else:
                        k, _, v = line.partition(":")
                        v = v[1:] if v.startswith(" ") else v
                        fields[k] = fields[k] + "\n" + v if k == "data" and k in fields else v
        finally:
            sock.close()

    def _event(self, fields):
        try:
            d = json.loads(fields["data"])
        except ValueError:
            return
        d.setdefault("kind", fields.get("event"))
        d["recv_ms"] = wall_ms()
        with self.lock:
            if len(self.events) < self.MAX:
                self.events.append(d)


class LoadLoop(threading.Thread):
    """mysqlslap in a loop against one port, until stopped (bounded in runs and time)."""

    def __init__(self, port, password, deadline_s, max_runs=500):
        super().__init__(daemon=True)
        self.port, self.password = port, password
        self.deadline = time.monotonic() + deadline_s
        self.max_runs = max_runs
        self.stopping = threading.Event()
        self.proc = None
        self.runs = 0
        self.failures = 0
        self.last_error = None

    def stop(self):
        self.stopping.set()
        p = self.proc
        if p and p.poll() is None:
            p.terminate()

    def run(self):
        cmd = ["mysqlslap", "--no-defaults", "-h", "127.0.0.1", "-P", str(self.port), "-u", USER,
               f"--create-schema={DB}", "--no-drop", "--concurrency=4", "--iterations=1", f"--query={LOAD_QUERY}"]
        env = dict(os.environ, MYSQL_PWD=self.password)
        while not self.stopping.is_set() and self.runs < self.max_runs and time.monotonic() < self.deadline:
            self.proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                         stdin=subprocess.DEVNULL, text=True)
            try:
                _, err = self.proc.communicate(timeout=180)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                _, err = self.proc.communicate()
            self.runs += 1
            if self.proc.returncode != 0 and not self.stopping.is_set():
                self.failures += 1
                self.last_error = (err or "").strip()[-300:]
                if self.failures >= 20:
                    return
                time.sleep(0.5)
        self.stop()


# ---------------------------------------------------------------------------
# sections


class Ctx:
    def __init__(self, args, binary, workdir):
        self.args = args
        self.binary = binary
        self.workdir = workdir
        self.token = "bench-" + secrets.token_hex(12)
        self.password = "Pw" + secrets.token_hex(10)
        self.servers = []
        self.all_servers = []
        self.notes = []

    def server(self, name, flags):
        s = Server(self.binary, self.workdir, name, flags, self.token)
        self.servers.append(s)
        self.all_servers.append(s)
        return s

    def note(self, msg):
        log("NOTE: " + msg)
        self.notes.append(msg)

    def close_server(self, s):
        s.delete_all()
        s.stop()
        if s in self.servers:
            self.servers.remove(s)


def bench_wake(ctx):
    a = ctx.args
    # the tier a wake starts from: `stopped` (containers exited) or `paused`
    # (containers frozen by --idle-pause-after, the stop far away)
    tier = a.wake_from
    if tier == "paused":
        flags = ["--idle-pause-after", str(a.idle_pause_after), "--idle-stop-after", "600"]
    else:
        flags = ["--idle-pause-after", "0", "--idle-stop-after", str(a.idle_stop_after)]
    srv = ctx.server("wake", flags)
    try:
        variants = [("pool", "warm pool (`minimumNodesInPool: 1`, the seed)", SEED),
                    ("nopool", "no pool (`minimumNodesInPool: 0`)", NO_POOL)]
        deps = {}
        for key, _, spec in variants:
            dep = srv.deploy(spec, ctx.password)
            srv.wait_status(dep, {"running"}, a.deploy_timeout, f"{key} deployment")
            view = srv.view(dep)
            port = service_endpoint(view, "Master")["port"]
            create_table(port, ctx.password)
            if not view.get("serverless"):
                ctx.note(f"{key}: view has no `serverless` block: {view.get('serverless')!r}")
            deps[key] = (dep, port)
            log(f"[wake] {key}: Master endpoint 127.0.0.1:{port}, table t has {ROWS} rows")
        res = {key: {"wake": [], "reconnect": [], "stopwait": []} for key, _, _ in variants}
        for rnd in range(a.rounds):
            order = variants if rnd % 2 == 0 else variants[::-1]
            for key, _, _ in order:
                dep, port = deps[key]
                t0 = time.monotonic()
                for other, _, _ in variants:  # nothing else stopping or waking meanwhile
                    srv.wait_status(deps[other][0], {tier}, a.stop_timeout,
                                    f"{other} deployment (waiting for the idle {tier})")
                res[key]["stopwait"].append((time.monotonic() - t0) * 1000)
                time.sleep(a.settle)
                before = (srv.view(dep).get("serverless") or {}).get("wakes")
                if a.wake_client == "greeting":
                    # the wake is timed on the first answer; the rows are then
                    # checked by a real client on the woken deployment
                    ms = first_answer(port, timeout=a.wake_client_timeout)
                    ms2, out = mysql(port, ctx.password, "SELECT COUNT(*) FROM t", timeout=a.wake_client_timeout)
                else:
                    ms, out = mysql(port, ctx.password, "SELECT COUNT(*) FROM t", timeout=a.wake_client_timeout)
                    ms2 = None
                if out != str(ROWS):
                    raise BenchError(f"{key}: SELECT COUNT(*) FROM t answered {out!r}, expected {ROWS}")
                if ms2 is None:
                    ms2, _ = mysql(port, ctx.password, "SELECT COUNT(*) FROM t")
                after_view = srv.view(dep)
                after = (after_view.get("serverless") or {}).get("wakes")
                if isinstance(before, int) and isinstance(after, int) and after != before + 1:
                    ctx.note(f"{key} round {rnd + 1}: serverless.wakes went {before} -> {after} (expected +1)")
                res[key]["wake"].append(ms)
                res[key]["reconnect"].append(ms2)
                log(f"[wake] round {rnd + 1}/{a.rounds} {key:6}: wake {ms:7.0f} ms, reconnect {ms2:5.0f} ms "
                    f"(status now {after_view.get('status')}, wakes {after})")
        return {"variants": [(key, label, stats(res[key]["wake"]), stats(res[key]["reconnect"]),
                              stats(res[key]["stopwait"])) for key, label, _ in variants]}
    finally:
        ctx.close_server(srv)


def bench_throughput(ctx):
    a = ctx.args
    if not shutil.which("sysbench"):
        ctx.note("sysbench missing: apt-get install -y sysbench (throughput section skipped)")
        return None
    srv = ctx.server("throughput", ["--idle-pause-after", "0", "--idle-stop-after", "600"])
    cfg = ctx.workdir / "sysbench.cfg"
    fd = os.open(cfg, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(f"mysql-password={ctx.password}\n")
    try:
        dep = srv.deploy(SEED, ctx.password)
        srv.wait_status(dep, {"running"}, a.deploy_timeout, "throughput deployment")
        view = srv.view(dep)
        proxy = service_endpoint(view, "Master")["port"]
        direct = container_host_port(view, "Master")
        log(f"[throughput] proxy 127.0.0.1:{proxy}, direct 127.0.0.1:{direct}; sysbench prepare")
        r = subprocess.run(sysbench_base(cfg, direct, a) + ["prepare"], capture_output=True, text=True,
                           timeout=600, stdin=subprocess.DEVNULL)
        if r.returncode != 0:
            raise BenchError(f"sysbench prepare exited {r.returncode}:\n{r.stdout[-1500:]}\n{r.stderr[-1500:]}")
        targets = {"proxy": proxy, "direct": direct}
        if a.sysbench_warmup > 0:
            for name, port in targets.items():
                sysbench_run(cfg, port, a, a.sysbench_warmup)
        res = {"proxy": [], "direct": []}
        for rep in range(a.sysbench_reps):
            order = ["proxy", "direct"] if rep % 2 == 0 else ["direct", "proxy"]
            for name in order:
                tps, p99, errs = sysbench_run(cfg, targets[name], a, a.sysbench_secs)
                if errs:
                    ctx.note(f"sysbench {name} rep {rep + 1}: {errs} ignored errors")
                res[name].append((tps, p99))
                log(f"[throughput] rep {rep + 1}/{a.sysbench_reps} {name:6}: {tps:8.1f} tps, p99 {p99:6.2f} ms")
        ping = {"proxy": [], "direct": []}
        if a.ping_secs > 0:
            lua = ctx.workdir / "select1.lua"
            lua.write_text(PING_LUA)
            for rep in range(a.sysbench_reps):
                order = ["proxy", "direct"] if rep % 2 == 0 else ["direct", "proxy"]
                for name in order:
                    mean_us, p50_us = ping_run(cfg, lua, targets[name], a.ping_secs)
                    ping[name].append((mean_us, p50_us))
                    log(f"[throughput] ping rep {rep + 1}/{a.sysbench_reps} {name:6}: SELECT 1 mean {mean_us:6.1f} µs, "
                        f"median {p50_us:6.1f} µs")
        st = srv.status(dep)[0]
        if st != "running":
            ctx.note(f"throughput deployment is `{st}` after the benchmark (expected running)")
        out = {}
        for name in ("proxy", "direct"):
            out[name] = {"tps": stats([x[0] for x in res[name]]), "p99": stats([x[1] for x in res[name]])}
        out["ratio_tps"] = out["proxy"]["tps"]["median"] / out["direct"]["tps"]["median"]
        out["ratio_p99"] = out["proxy"]["p99"]["median"] / out["direct"]["p99"]["median"]
        if ping["proxy"]:
            for name in ("proxy", "direct"):
                out["ping_" + name] = {"mean": stats([x[0] for x in ping[name]]),
                                       "p50": stats([x[1] for x in ping[name]])}
            out["ping_added_us"] = out["ping_proxy"]["mean"]["median"] - out["ping_direct"]["mean"]["median"]
        return out
    finally:
        try:
            cfg.unlink()
        except OSError:
            pass
        ctx.close_server(srv)


def is_decision(e):
    return e.get("kind") in ("step", "status") and "autoscal" in (e.get("message") or "").lower()


def bench_autoscale(ctx):
    a = ctx.args
    if not shutil.which("mysqlslap"):
        ctx.note("mysqlslap missing: apt-get install -y mariadb-client (autoscale section skipped)")
        return None
    srv = ctx.server("autoscale", ["--idle-pause-after", "0", "--idle-stop-after", "600", "--autoscale-minute-secs", str(a.autoscale_minute_secs)])
    sse = None
    load = None
    try:
        text = AUTOSCALE.read_text()
        if a.autoscale_pool is not None:
            # the Replica's warm pool: spare replicas a scale-up only starts
            text = text.replace("minimumNodesInPool: 1", f"minimumNodesInPool: {a.autoscale_pool}")
        dep = srv.deploy(AUTOSCALE, ctx.password, text)
        srv.wait_status(dep, {"running"}, a.deploy_timeout, "autoscale deployment")
        sse = SseReader(srv.base, dep)
        sse.start()
        view = srv.view(dep)
        reader = service_endpoint(view, "Replica")["port"]
        log(f"[autoscale] reader endpoint 127.0.0.1:{reader}; autoscaling {json.dumps(autoscaling_of(view, 'Replica'))}")
        rows = []  # (load->routable, decision->routable, load->decision, load stop->back to 1)
        t_begin = time.monotonic()
        last_dur = 0.0
        for rnd in range(a.autoscale_rounds):
            spent = time.monotonic() - t_begin
            if rnd > 0 and spent + 1.2 * last_dur > a.autoscale_budget:
                ctx.note(f"autoscale: stopped after {rnd} round(s), budget {a.autoscale_budget} s")
                break
            r0 = time.monotonic()
            # start from one routable replica and a quiet CPU
            t_wait = time.monotonic()
            while True:
                v = srv.view(dep)
                asc = autoscaling_of(v, "Replica") or {}
                if len(routable(v, "Replica")) == 1 and asc.get("replicas", 1) == 1 and \
                        len([c for c in v.get("containers", []) if c.get("resource") == "Replica"]) == 1:
                    break
                if time.monotonic() - t_wait > a.scale_timeout:
                    raise BenchError(f"autoscale round {rnd + 1}: Replica not back to 1 container after "
                                     f"{a.scale_timeout} s: autoscaling={json.dumps(v.get('autoscaling'))}, containers="
                                     + json.dumps([{k: c.get(k) for k in ('name', 'resource', 'state', 'routable', 'cpuPercent')}
                                                   for c in v.get('containers', [])]))
                time.sleep(0.5)
            time.sleep(a.autoscale_settle)
            load = LoadLoop(reader, ctx.password, deadline_s=a.scale_timeout + 30)
            t0_wall = wall_ms()
            t0 = time.monotonic()
            load.start()
            t_routable = None
            t_routable_wall = None
            cpu_seen = []
            while time.monotonic() - t0 < a.scale_timeout:
                v = srv.view(dep)
                asc = autoscaling_of(v, "Replica") or {}
                if asc.get("cpuPercent") is not None:
                    cpu_seen.append(asc["cpuPercent"])
                if len(routable(v, "Replica")) >= 2:
                    t_routable = (time.monotonic() - t0) * 1000
                    t_routable_wall = wall_ms()
                    break
                if load.failures >= 20:
                    break
                time.sleep(a.poll)
            load.stop()
            load.join(timeout=30)
            if load.failures:
                ctx.note(f"autoscale round {rnd + 1}: {load.failures} mysqlslap run(s) failed: {load.last_error}")
            if t_routable is None:
                evs = [e for e in sse.snapshot() if e.get("ts", 0) >= t0_wall - 1000 and is_decision(e)]
                raise BenchError(f"autoscale round {rnd + 1}: no second routable Replica within {a.scale_timeout} s "
                                 f"(mysqlslap runs {load.runs}, failures {load.failures}; cpuPercent seen "
                                 f"{cpu_seen[-10:]}; autoscaling events {[e.get('message') for e in evs][:10]}; "
                                 f"autoscaling={json.dumps(v.get('autoscaling'))})")
            t_stop = time.monotonic()
            time.sleep(1.0)  # let a late event arrive
            evs = [e for e in sse.snapshot() if t0_wall - 500 <= e.get("ts", 0) <= t_routable_wall + 2000 and is_decision(e)]
            up = [e for e in evs if re.search(r"scal\w*\s*up|add|→\s*2|->\s*2|to 2", e.get("message", ""), re.I)]
            decision = (up or evs or [None])[0]
            for e in evs[:8]:
                log(f"[autoscale]   event +{e['ts'] - t0_wall:7.0f} ms {e.get('kind')}: {e.get('message')}")
            if sse.error:
                ctx.note(f"events stream ended with: {sse.error}")
            # the server's own "replica N takes connections" event, when it emits one (no poll granularity)
            taken = [e for e in evs if decision is not None and e is not decision and e["ts"] >= decision["ts"]
                     and re.search(r"takes connections", e.get("message", ""))]
            d_event = None
            if decision is None:
                ctx.note(f"autoscale round {rnd + 1}: no step/status event mentioning autoscaling between load start "
                         f"and routable")
                d_route = d_load = None
            else:
                d_route = t_routable_wall - decision["ts"]
                d_load = decision["ts"] - t0_wall
                if taken:
                    d_event = taken[0]["ts"] - decision["ts"]
            # back to one replica (informational; also the start of the next round)
            t_down = None
            while time.monotonic() - t_stop < a.scale_timeout:
                v = srv.view(dep)
                if len([c for c in v.get("containers", []) if c.get("resource") == "Replica"]) == 1:
                    t_down = (time.monotonic() - t_stop) * 1000
                    break
                time.sleep(0.5)
            rows.append((t_routable, d_route, d_load, t_down, d_event))
            last_dur = time.monotonic() - r0
            log(f"[autoscale] round {rnd + 1}: load -> routable {t_routable:.0f} ms, decision -> routable "
                f"{'–' if d_route is None else f'{d_route:.0f} ms'}, load -> decision "
                f"{'–' if d_load is None else f'{d_load:.0f} ms'}, decision -> takes-connections event "
                f"{'–' if d_event is None else f'{d_event:.0f} ms'}, load stop -> 1 replica "
                f"{'–' if t_down is None else f'{t_down:.0f} ms'} (mysqlslap runs {load.runs}, cpu seen {cpu_seen[-5:]})")
            load = None
        cols = list(zip(*rows)) if rows else [[], [], [], [], []]
        return {"n": len(rows), "load_routable": stats(list(cols[0])),
                "decision_routable": stats([x for x in cols[1] if x is not None]),
                "load_decision": stats([x for x in cols[2] if x is not None]),
                "scale_down": stats([x for x in cols[3] if x is not None]),
                "decision_event": stats([x for x in cols[4] if x is not None])}
    finally:
        if load:
            load.stop()
            load.join(timeout=30)
        if sse:
            sse.stop()
            sse.join(timeout=5)
        ctx.close_server(srv)


# ---------------------------------------------------------------------------
# report


def report(ctx, results, started):
    a = ctx.args
    lines = []
    p = lines.append
    p("")
    p(f"## Serverless: wake, proxy throughput, autoscaling (`scripts/bench-serverless.py`)")
    p("")
    p(f"Command: `{' '.join(['scripts/bench-serverless.py'] + sys.argv[1:])}`; {time.strftime('%Y-%m-%d %H:%M')}, "
      f"{os.cpu_count()} cores, load average {started[0]:.1f} at start, {os.getloadavg()[0]:.1f} at end.")
    w = results.get("wake")
    if w:
        p("")
        idle = (f"`--idle-pause-after {a.idle_pause_after}`" if a.wake_from == "paused"
                else f"`--idle-stop-after {a.idle_stop_after}`")
        if a.wake_client == "greeting":
            p(f"Wake from `{a.wake_from}` ({idle}, {a.settle:g} s after `{a.wake_from}`): connect → first byte "
              f"of the server's handshake through the Master endpoint (a raw socket); then "
              f"`mysql … -e 'SELECT COUNT(*) FROM t'` checks the rows (process start → exit, the last column).")
            p("")
            p("| variant | n | connect → first answer median | min | max | mysql right after (median) |")
        else:
            p(f"Wake from `{a.wake_from}` ({idle}, {a.settle:g} s after `{a.wake_from}`): "
              f"`mysql … -e 'SELECT COUNT(*) FROM t'` through the Master endpoint, process start → exit.")
            p("")
            p("| variant | n | wake median | min | max | reconnect (awake) median |")
        p("|---|---:|---:|---:|---:|---:|")
        for key, label, ws, rs, _ in w["variants"]:
            p(f"| {label} | {ws['n']} | {fmt_ms(ws['median'])} | {fmt_ms(ws['min'])} | {fmt_ms(ws['max'])} | "
              f"{fmt_ms(rs['median'])} |")
    t = results.get("throughput")
    if t:
        p("")
        p(f"sysbench `{a.workload}` (--tables={a.tables} --table-size={a.table_size} --threads={a.threads}, "
          f"{a.sysbench_reps} × {a.sysbench_secs} s each, alternating; medians, range in brackets).")
        p("")
        p("| path | tps | p99 |")
        p("|---|---:|---:|")
        for name, label in (("proxy", "Master endpoint (proxy)"), ("direct", "master `hostPort` (direct)")):
            x = t[name]
            p(f"| {label} | {x['tps']['median']:.0f} ({x['tps']['min']:.0f}–{x['tps']['max']:.0f}) | "
              f"{x['p99']['median']:.2f} ms ({x['p99']['min']:.2f}–{x['p99']['max']:.2f}) |")
        p(f"| proxy / direct | **{t['ratio_tps']:.2f}×** (goal ≥ 0.95) | {t['ratio_p99']:.2f}× (goal ≤ 1.1) |")
        if "ping_proxy" in t:
            p("")
            p(f"`SELECT 1` ping-pong, one client, {a.sysbench_reps} × {a.ping_secs} s each path, alternating "
              f"(sysbench `select1.lua`; mean = run time / round trips; median in sysbench's 10 µs buckets).")
            p("")
            p("| path | mean round trip | median |")
            p("|---|---:|---:|")
            for name, label in (("ping_proxy", "Master endpoint (proxy)"), ("ping_direct", "master `hostPort` (direct)")):
                x = t[name]
                p(f"| {label} | {x['mean']['median']:.1f} µs ({x['mean']['min']:.1f}–{x['mean']['max']:.1f}) | "
                  f"{x['p50']['median']:.0f} µs |")
            p(f"| added by the endpoint | **{t['ping_added_us']:+.1f} µs** (goal ≤ 25) | |")
    s = results.get("autoscale")
    if s:
        p("")
        p(f"Autoscaling (Replica 1→2, `overUtilizedThreshold: 60`, 3 minutes of `--autoscale-minute-secs "
          f"{a.autoscale_minute_secs}`), mysqlslap --concurrency=4 `{LOAD_QUERY}` on the Replica service endpoint; "
          f"routable polled every {a.poll:g} s; n = {s['n']}.")
        p("")
        p("| figure | n | median | min | max |")
        p("|---|---:|---:|---:|---:|")
        for key, label in (("load_routable", "load start → second Replica routable"),
                           ("decision_routable", "autoscaling event (`ts`) → routable"),
                           ("decision_event", "autoscaling event → \"takes connections\" event (server clock)"),
                           ("load_decision", "load start → autoscaling event"),
                           ("scale_down", "load stop → back to 1 Replica")):
            x = s[key]
            if x:
                p(f"| {label} | {x['n']} | {fmt_s(x['median'])} | {fmt_s(x['min'])} | {fmt_s(x['max'])} |")
            else:
                p(f"| {label} | 0 | – | – | – |")
    if ctx.notes:
        p("")
        p("Notes:")
        for n in ctx.notes:
            p(f"- {n}")
    print("\n".join(lines), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=5, help="wake rounds per variant (default 5)")
    ap.add_argument("--only", default="wake,throughput,autoscale", help="comma-separated sections")
    ap.add_argument("--idle-stop-after", type=int, default=3, help="server flag for the wake section (default 3)")
    ap.add_argument("--wake-from", choices=["stopped", "paused"], default="stopped",
                    help="the idle tier each wake starts from (default stopped)")
    ap.add_argument("--idle-pause-after", type=int, default=2,
                    help="server flag for the wake section with --wake-from paused (default 2)")
    ap.add_argument("--wake-client", choices=["greeting", "mysql"], default="greeting",
                    help="what a wake is timed on: connect → the server's first byte (greeting, default), "
                         "or a whole `mysql -e 'SELECT COUNT(*) FROM t'` run (mysql)")
    ap.add_argument("--settle", type=float, default=1.0, help="seconds to wait after `stopped` before a wake")
    ap.add_argument("--stop-timeout", type=float, default=90, help="bound on waiting for `stopped` (s)")
    ap.add_argument("--wake-client-timeout", type=float, default=120, help="bound on one wake (s)")
    ap.add_argument("--deploy-timeout", type=float, default=300, help="bound on deploy → running (s)")
    ap.add_argument("--sysbench-secs", type=int, default=15)
    ap.add_argument("--sysbench-reps", type=int, default=3)
    ap.add_argument("--sysbench-warmup", type=int, default=3, help="unrecorded seconds per path first (0: none)")
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--ping-secs", type=int, default=5, help="seconds per `SELECT 1` ping-pong run (0: none)")
    ap.add_argument("--workload", default="oltp_read_only",
                    help="sysbench OLTP script for the throughput part (oltp_read_only, oltp_read_write, oltp_point_select…)")
    ap.add_argument("--tables", type=int, default=2)
    ap.add_argument("--table-size", type=int, default=10000)
    ap.add_argument("--autoscale-rounds", type=int, default=3)
    ap.add_argument("--autoscale-pool", type=int, default=None,
                    help="override minimumNodesInPool of the autoscale spec (0: no warm spare replica)")
    ap.add_argument("--autoscale-budget", type=float, default=900, help="no new autoscale round past this (s)")
    ap.add_argument("--autoscale-minute-secs", type=float, default=1)
    ap.add_argument("--autoscale-settle", type=float, default=3, help="quiet seconds before each load start")
    ap.add_argument("--scale-timeout", type=float, default=180, help="bound on scale up / down (s)")
    ap.add_argument("--poll", type=float, default=0.25, help="GET poll interval while waiting for routable (s)")
    ap.add_argument("--keep", action="store_true", help="keep the work dir (server logs)")
    ap.add_argument("--proxy-threads", type=int, default=None,
                    help="endpoint proxy threads of the servers (SPECSTUDIO_PROXY_THREADS; default: the server's)")
    args = ap.parse_args()
    global PROXY_THREADS
    PROXY_THREADS = args.proxy_threads
    sections = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = set(sections) - {"wake", "throughput", "autoscale"}
    if unknown or args.rounds < 1 or args.sysbench_reps < 1 or args.autoscale_rounds < 1:
        ap.error(f"bad arguments (unknown sections {sorted(unknown)})" if unknown else "counts must be ≥ 1")

    missing = [c for c in ("mysql",) if not shutil.which(c)]
    if missing:
        log("the mariadb client is missing: apt-get install -y mariadb-client")
        return 1
    if shutil.which("docker"):
        if subprocess.run(["docker", "image", "inspect", IMAGE], capture_output=True).returncode != 0:
            log(f"image {IMAGE} missing: bash images/mysql/build.sh")
            return 1
    try:
        check_fixtures()
    except BenchError as e:
        log(f"FAILED: {e}")
        return 1

    binary = os.environ.get("SPECSTUDIO_BIN")
    if not binary:
        log("building the server (cargo build --release -p specstudio)")
        subprocess.run(["cargo", "build", "-q", "--release", "-p", "specstudio"], cwd=ROOT, check=True)
        binary = ROOT / "target" / "release" / "specstudio"
    binary = Path(binary).resolve()

    load0 = os.getloadavg()
    busy = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                comm = Path(f"/proc/{pid}/comm").read_text().strip()
            except OSError:
                continue
            if comm in ("rustc", "cargo", "node", "chromium"):
                busy.append(comm)
    workdir = Path(tempfile.mkdtemp(prefix="bench-serverless-"))
    ctx = Ctx(args, binary, workdir)
    if load0[0] > 1.5 or busy:
        ctx.note(f"machine busy at start (load average {load0[0]:.1f}, running: {sorted(set(busy)) or 'nothing known'}): "
                 f"figures are noisy")

    def on_term(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    results = {}
    ok = False
    try:
        for name, fn in (("wake", bench_wake), ("throughput", bench_throughput), ("autoscale", bench_autoscale)):
            if name in sections:
                log(f"=== {name}")
                results[name] = fn(ctx)
        ok = True
    except BenchError as e:
        log(f"FAILED: {e}")
        if ctx.all_servers:
            s = ctx.all_servers[-1]
            log(f"[{s.name}] server stderr (tail):\n{s.stderr_tail(25)}")
    except KeyboardInterrupt:
        log("interrupted")
    finally:
        for s in list(ctx.servers):
            ctx.close_server(s)
    report(ctx, results, load0)
    if ok and not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    else:
        log(f"work dir (server logs) kept: {workdir}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
