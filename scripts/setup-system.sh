#!/usr/bin/env bash
# Install the system packages specstudio's build and tests need, once.
# Idempotent: installs only what is missing. Needs root (or sudo) on Debian.
#
# usage: scripts/setup-system.sh [--tests]
#   without flags: what `serve` needs (node/npm for the UI build, the wasm target)
#   --tests: also Docker, Chromium + ChromeDriver, debootstrap, a MySQL client,
#            Neovim (the headless editor test of `specstudio lsp`)
set -euo pipefail

want=()
need() { command -v "$1" >/dev/null 2>&1 || want+=("$2"); }
need node nodejs
need npm npm
if [[ "${1:-}" == "--tests" ]]; then
  need dockerd docker.io
  need chromium chromium
  need chromedriver chromium-driver
  need debootstrap debootstrap
  need mariadb mariadb-client
  need hyperfine hyperfine
  need sysbench sysbench
  need nvim neovim
  need ip iproute2   # scripts/swarm.sh: network namespaces for the local swarm
  need python3 python3
  # pytest-lsp and schemathesis (PyPI) run in virtualenvs made by scripts/test.sh
  python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || want+=(python3-venv)
fi
if ((${#want[@]})); then
  sudo=""; [[ $(id -u) -eq 0 ]] || sudo="sudo"
  echo "==> apt-get install ${want[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${want[@]}" >/dev/null
fi
rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown

if [[ "${1:-}" == "--tests" ]] && ! docker info >/dev/null 2>&1; then
  echo "==> starting dockerd"
  nohup dockerd >/var/log/dockerd.log 2>&1 &
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
  docker info >/dev/null 2>&1 || { echo "dockerd did not start; see /var/log/dockerd.log" >&2; exit 1; }
fi
