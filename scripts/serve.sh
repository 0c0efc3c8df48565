#!/usr/bin/env bash
# Run specstudio: build the browser UI when it is missing or stale, then serve
# it and the API on http://127.0.0.1:8080 (pass any `serve` flags through).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-system.sh
if [[ ! -f dist/index.html ]] || [[ "$(cargo run -q -p xtask -- ui-stale)" == "stale" ]]; then
  echo "==> building the UI into dist/"
  cargo run -q -p xtask -- build-ui
fi
exec cargo run -q --release -p specstudio -- serve "$@"
