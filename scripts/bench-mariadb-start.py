#!/usr/bin/env python3
"""Where a wake from `stopped` goes without specstudio (issue 14): one
specstudio/mysql:local container (its own name and label, removed at the end)
with a published 127.0.0.1 port and an initialised data directory, then N
rounds of `docker stop` / `docker start`, timing `docker start` returning,
the port lookup, and connect → the first byte of MariaDB's handshake polled
every 3 ms; the container's own log lines (entrypoint start, `exec mariadbd`,
`ready for connections`) give MariaDB's part. Talks only to 127.0.0.1.

    scripts/bench-mariadb-start.py [ROUNDS]   # default 3
"""
import json
import os
import secrets
import socket
import subprocess
import sys
import time
NAME = "specstudio-bench-mariadb-start"


def sh(*a, env=None):
    return subprocess.run(a, capture_output=True, text=True, env=env)


def host_port():
    ports = json.loads(sh("docker", "inspect", NAME).stdout)[0]["NetworkSettings"]["Ports"]["3306/tcp"]
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


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    sh("docker", "rm", "-f", NAME)
    r = sh("docker", "run", "-d", "--name", NAME, "-l", "org.specstudio.bench=mariadb-start",
           "-e", "MYSQL_ROOT_PASSWORD", "-e", "MYSQL_DATABASE=d", "-p", "127.0.0.1::3306",
           "specstudio/mysql:local",
           env=dict(os.environ, MYSQL_ROOT_PASSWORD=secrets.token_hex(12)))  # never in argv
    if r.returncode != 0:
        sys.exit(f"docker run failed: {r.stderr.strip()}")
    try:
        if first_byte(host_port(), time.monotonic() + 120) is None:
            sys.exit("the container never answered")
        time.sleep(1)
        for i in range(rounds):
            sh("docker", "stop", "-t", "30", NAME)
            since = time.time()
            t0 = time.monotonic()
            sh("docker", "start", NAME)
            t1 = time.monotonic()
            port = host_port()
            t2 = time.monotonic()
            g = first_byte(port, time.monotonic() + 60)
            answered = f"{1000 * (g - t0):.0f} ms" if g else "never (60 s)"
            print(f"round {i + 1}: docker start returned {1000 * (t1 - t0):.0f} ms, port lookup "
                  f"{1000 * (t2 - t1):.0f} ms, first byte {answered} after the start call")
            logs = sh("docker", "logs", "--timestamps", "--since", str(since), NAME)
            for line in (logs.stdout + logs.stderr).splitlines():
                if "exec mariadbd" in line or "ready for connections" in line or "mode=" in line:
                    print("   ", line[:160])
            time.sleep(1)
    finally:
        sh("docker", "rm", "-f", NAME)


if __name__ == "__main__":
    main()
