#!/usr/bin/env python3
"""Language-server figures: diagnostics latency after a change, and memory
after 1,000 edits, for `specstudio lsp` and (side by side, when it runs here)
the npm `yaml-language-server`.

usage: scripts/bench-lsp.py [--peer] [--no-ours] [--samples N] [--edits N]

Needs the release binary (cargo build --release -p specstudio); `--peer` needs
`npm ci` in scripts/bench-lsp/. Latency is the time from writing a
`didChange` (one character, in an env value) to reading the
`publishDiagnostics` that follows it, so it includes our 10 ms debounce.
The peer runs with its schema store off (no network): YAML syntax only.
"""
import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]


class Server:
    def __init__(self, cmd):
        self.proc = subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
        )
        self.next_id = 0

    def send(self, message):
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()

    def read(self):
        length = None
        while True:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError("server closed its output")
            line = line.strip()
            if not line:
                break
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
        message = json.loads(self.proc.stdout.read(length))
        if "method" in message and "id" in message:  # a request to us: answer it
            result = None
            if message["method"] == "workspace/configuration":
                items = message.get("params", {}).get("items", [])
                result = [SETTINGS["yaml"] if i.get("section") == "yaml" else None for i in items]
            self.send({"id": message["id"], "result": result})
        return message

    def request(self, method, params):
        self.next_id += 1
        self.send({"id": self.next_id, "method": method, "params": params})
        while True:
            m = self.read()
            if m.get("id") == self.next_id and "method" not in m:
                return m

    def notify(self, method, params):
        self.send({"method": method, "params": params})

    def diagnostics(self, uri, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = self.read()
            if m.get("method") == "textDocument/publishDiagnostics" and m["params"]["uri"] == uri:
                return m["params"]
        raise RuntimeError("no diagnostics")

    def rss_kib(self):
        for line in open(f"/proc/{self.proc.pid}/status"):
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    def stop(self):
        try:
            self.request("shutdown", None)
            self.notify("exit", None)
            self.proc.wait(timeout=10)
        except Exception:
            self.proc.kill()
            self.proc.wait()


SETTINGS = {"yaml": {"validate": True, "schemaStore": {"enable": False}, "schemas": {}}}


def session(cmd, text, samples, edits):
    s = Server(cmd)
    s.request("initialize", {"processId": os.getpid(), "rootUri": None,
                             "capabilities": {"workspace": {"configuration": True}}})
    s.notify("initialized", {})
    s.notify("workspace/didChangeConfiguration", {"settings": SETTINGS})
    uri = "file:///tmp/bench-lsp/compose.yaml"
    s.notify("textDocument/didOpen", {"textDocument": {
        "uri": uri, "languageId": "yaml", "version": 1, "text": text}})
    s.diagnostics(uri)
    # One character of an env value, toggled: `…MODE=slave` ↔ `…MODE=slavf`.
    at = text.index("MYSQL_REPLICATION_MODE=slave") + len("MYSQL_REPLICATION_MODE=slav")
    line = text.count("\n", 0, at)
    col = at - (text.rfind("\n", 0, at) + 1)
    rng = {"start": {"line": line, "character": col}, "end": {"line": line, "character": col + 1}}
    version = 1

    def edit():
        nonlocal version
        version += 1
        s.notify("textDocument/didChange", {
            "textDocument": {"uri": uri, "version": version},
            "contentChanges": [{"range": rng, "text": "f" if version % 2 == 0 else "e"}]})

    latencies = []
    for _ in range(samples):
        time.sleep(0.03)
        t = time.perf_counter()
        edit()
        s.diagnostics(uri)
        latencies.append((time.perf_counter() - t) * 1000)
    rss_before = s.rss_kib()
    started = time.monotonic()
    done = 0
    # Bounded: a slow server reports how many edits it took in 120 s.
    while done < edits and time.monotonic() - started < 120:
        edit()
        s.diagnostics(uri)
        done += 1
    rss_after = s.rss_kib()
    s.stop()
    latencies.sort()
    return {
        "median_ms": statistics.median(latencies),
        "p95_ms": latencies[int(len(latencies) * 0.95) - 1],
        "rss_before_mib": rss_before / 1024,
        "rss_after_mib": rss_after / 1024,
        "edits": done,
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--peer", action="store_true", help="also run yaml-language-server")
    parser.add_argument("--no-ours", action="store_true", help="skip specstudio lsp")
    parser.add_argument("--samples", type=int, default=40)
    parser.add_argument("--edits", type=int, default=1000)
    args = parser.parse_args()
    target = os.environ.get("CARGO_TARGET_DIR", str(ROOT / "target"))
    servers = []
    if not args.no_ours:
        servers.append(("specstudio lsp", [str(pathlib.Path(target) / "release" / "specstudio"), "lsp"]))
    if args.peer:
        peer = ROOT / "scripts" / "bench-lsp" / "node_modules" / "yaml-language-server" / "bin" / "yaml-language-server"
        servers.append(("yaml-language-server 1.25.0", ["node", str(peer), "--stdio"]))
    seed = (ROOT / "examples" / "serverless-mysql-master-replica.yaml").read_text()
    generated = subprocess.run([sys.executable, str(ROOT / "scripts" / "gen-spec.py"), "200"],
                               check=True, capture_output=True, text=True).stdout
    print("| server | input | latency median | p95 | RSS after open+samples | RSS after the edits (count) |")
    print("|---|---|---|---|---|---|")
    for name, cmd in servers:
        for label, text in [("seed", seed), ("200 services", generated)]:
            r = session(cmd, text, args.samples, args.edits)
            print(f"| {name} | {label} ({len(text) // 1024} KB) | {r['median_ms']:.1f} ms | {r['p95_ms']:.1f} ms "
                  f"| {r['rss_before_mib']:.1f} MiB | {r['rss_after_mib']:.1f} MiB ({r['edits']}) |", flush=True)


if __name__ == "__main__":
    main()
