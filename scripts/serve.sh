#!/usr/bin/env bash
# Run specstudio: build the browser UI when it is missing or stale, then serve
# it and the API on http://127.0.0.1:8080 (any `serve` flags pass through).
#
# Deploying needs a Docker engine. No registry is reachable here, so when Docker
# answers and the local MySQL image is missing it is built first
# (images/mysql/build.sh, about a minute), and the spec's bitnami images are
# mapped to it unless SPECSTUDIO_IMAGE_MAP says otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-system.sh
if [[ ! -f dist/index.html ]] || [[ "$(cargo run -q -p xtask -- ui-stale)" == "stale" ]]; then
  echo "==> building the UI into dist/"
  cargo run -q -p xtask -- build-ui
fi
if docker info >/dev/null 2>&1; then
  docker image inspect specstudio/mysql:local >/dev/null 2>&1 || bash images/mysql/build.sh
else
  echo "note: no Docker engine answers; the editor works, deploys will answer 503 until one does"
fi
export SPECSTUDIO_IMAGE_MAP="${SPECSTUDIO_IMAGE_MAP-docker.io/bitnami/mysql:*=specstudio/mysql:local,docker.io/bitnamilegacy/mysql:*=specstudio/mysql:local}"
exec cargo run -q --release -p specstudio -- serve "$@"
