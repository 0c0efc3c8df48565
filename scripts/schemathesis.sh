#!/usr/bin/env bash
# Schemathesis against `specstudio serve` without Docker: every operation of
# the OpenAPI document, generated requests, all checks (no 5xx, status codes,
# content types, headers and bodies as documented). Loopback only, bounded.
#   scripts/schemathesis.sh [path/to/specstudio]   (needs `st` on PATH or ST=…)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-${CARGO_TARGET_DIR:-target}/debug/specstudio}
st=${ST:-st}
dir=$(mktemp -d)
token="st-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
SPECSTUDIO_TOKEN="$token" "$bin" serve --addr 127.0.0.1:0 --data-dir "$dir/data" \
  --dist-dir /nonexistent --docker-host unix:///nonexistent/docker.sock \
  --spec-rate 100000 >"$dir/out.log" 2>"$dir/err.log" &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$dir"' EXIT
for _ in $(seq 1 100); do
  addr=$(sed -n 's/^specstudio listening on //p' "$dir/out.log")
  [[ -n "$addr" ]] && break
  sleep 0.1
done
[[ -n "$addr" ]] || { cat "$dir/err.log" >&2; exit 1; }
# /api/orphans needs Docker (503 without it): it runs in the Docker e2e tests
# run from the temporary dir: schemathesis keeps its cache (.schemathesis/) there
config="$PWD/tests/schemathesis/schemathesis.toml"
cd "$dir"
"$st" --config-file "$config" run "$addr/api/openapi.json" --url "$addr" \
  --exclude-path-regex '^/api/orphans' \
  -H "Authorization: Bearer $token" \
  --checks all --max-examples "${ST_EXAMPLES:-25}" --request-timeout 30 \
  --no-color
