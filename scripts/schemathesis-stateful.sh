#!/usr/bin/env bash
# Schemathesis' stateful phase against `specstudio serve` WITH Docker: it
# follows the OpenAPI links (POST /api/deployments → GET / PATCH / DELETE /
# logs of the created id, POST /api/specs → GET /api/specs/{id}) with real
# deployments of tests/schemathesis/stateful-spec.yaml (hooks:
# tests/schemathesis/stateful_hooks.py). Checks: all of schemathesis' (no 5xx,
# documented statuses, bodies and headers) plus no secret in any answer.
# Bounded: ST_MAX_TIME seconds of scenarios (default 45; ~60 s in all);
# every object the run created is removed at the end (by its instance label).
#   scripts/schemathesis-stateful.sh [path/to/specstudio]   (needs `st` on PATH or ST=…)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-${CARGO_TARGET_DIR:-target}/debug/specstudio}
st=${ST:-st}
if ! docker info >/dev/null 2>&1; then
  if [[ "${CI:-}" == "true" ]]; then echo "CI=true and Docker is not reachable" >&2; exit 1; fi
  echo "!!! SKIPPING the stateful schemathesis run: Docker is not reachable" >&2; exit 0
fi
bash images/mysql/build.sh >/dev/null
dir=$(mktemp -d)
export SPECSTUDIO_TOKEN="st-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
"$bin" serve --addr 127.0.0.1:0 --data-dir "$dir/data" --dist-dir /nonexistent \
  --image-map 'e2e/sleeper:1=specstudio/mysql:local' --spec-rate 100000 \
  >"$dir/out.log" 2>"$dir/err.log" &
pid=$!
cleanup() {
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  # only what this server created: its instance label
  if [[ -s "$dir/data/instance-id" ]]; then
    label="org.specstudio.instance=$(tr -d ' \n' <"$dir/data/instance-id")"
    ids=$(docker ps -aq --filter "label=$label")
    [[ -z "$ids" ]] || docker rm -f $ids >/dev/null
    vols=$(docker volume ls -q --filter "label=$label")
    [[ -z "$vols" ]] || docker volume rm -f $vols >/dev/null
    nets=$(docker network ls -q --filter "label=$label")
    [[ -z "$nets" ]] || docker network rm $nets >/dev/null
  fi
  rm -rf "$dir"
}
trap cleanup EXIT
for _ in $(seq 1 100); do
  addr=$(sed -n 's/^specstudio listening on //p' "$dir/out.log")
  [[ -n "$addr" ]] && break
  sleep 0.1
done
[[ -n "$addr" ]] || { cat "$dir/err.log" >&2; exit 1; }
config="$PWD/tests/schemathesis/schemathesis.toml"
hooks_dir="$PWD/tests/schemathesis"
cd "$dir"
# the event stream never ends (no step of a sequence); /api/orphans lists
# other runs' leftovers on a shared daemon. `use_after_free` is left out:
# DELETE is asynchronous by contract (`202`: the deployment reads `deleting`
# until its containers and volumes are gone, then `404`). Positive data
# only: the hooks make bodies valid (negative data is the no-Docker run's)
rc=0
PYTHONPATH="$hooks_dir" SCHEMATHESIS_HOOKS=stateful_hooks \
  timeout 300 "$st" --config-file "$config" run "$addr/api/openapi.json" --url "$addr" \
  --phases stateful --mode positive \
  --exclude-path-regex '^/api/orphans|/events$' \
  -H "Authorization: Bearer $SPECSTUDIO_TOKEN" \
  --checks all --exclude-checks use_after_free --max-examples "${ST_SCENARIOS:-25}" --max-time "${ST_MAX_TIME:-45}" \
  --request-timeout 30 --generation-deterministic --no-color || rc=$?
# what the run did to the server: deployments it created and left
created=$(cat "$dir/err.log" "$dir/out.log" | grep -c 'deployment accepted' || true)
left=$(curl -s "$addr/api/deployments" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))' 2>/dev/null || echo "?")
echo "stateful run: $created deployment(s) accepted, $left listed at the end"
exit "$rc"
