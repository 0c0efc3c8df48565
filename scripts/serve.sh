#!/usr/bin/env bash
# Run specstudio: set up what deploys need, build the browser UI when it is
# missing or stale, then serve it and the API on http://127.0.0.1:8080 (any
# `serve` flags pass through). Needs no TTY.
#
# On a fresh Debian machine (as root, or with password-less sudo) this installs
# node/npm, the pinned Rust toolchain, the Docker engine and debootstrap, starts
# the engine, and builds the local MySQL image (images/mysql/build.sh: about a
# minute the first time, cached after, ~0.3 s when up to date). No registry is
# reachable here, so the spec's bitnami images are mapped to that image unless
# SPECSTUDIO_IMAGE_MAP says otherwise. SPECSTUDIO_NO_DOCKER=1 skips the Docker
# part (the editor works; deploys answer 503 until an engine answers).
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ "${SPECSTUDIO_NO_DOCKER:-}" == 1 ]]; then
  scripts/setup-system.sh
else
  scripts/setup-system.sh --deploy
  if [[ $(id -u) -eq 0 ]]; then
    bash images/mysql/build.sh
  elif ! docker image inspect specstudio/mysql:local >/dev/null 2>&1; then
    sudo -n bash images/mysql/build.sh ||
      echo "note: could not build specstudio/mysql:local (needs root: sudo bash images/mysql/build.sh); deploys of the seed will fail until it exists" >&2
  fi
fi
if [[ ! -f dist/index.html ]] || [[ "$(cargo run -q -p xtask -- ui-stale)" == "stale" ]]; then
  echo "==> building the UI into dist/"
  cargo run -q -p xtask -- build-ui
fi
export SPECSTUDIO_IMAGE_MAP="${SPECSTUDIO_IMAGE_MAP-docker.io/bitnami/mysql:*=specstudio/mysql:local,docker.io/bitnamilegacy/mysql:*=specstudio/mysql:local}"
exec cargo run -q --release -p specstudio -- serve "$@"
