#!/usr/bin/env bash
# Whole-process lint time: specstudio vs the peer dclint, same files, same run.
#
# usage: scripts/bench-lint.sh            (prints hyperfine tables and the ratios)
# Needs: hyperfine (apt), node + npm (dclint is installed into scripts/bench/).
set -euo pipefail
cd "$(dirname "$0")/.."

command -v hyperfine >/dev/null || apt-get install -y --no-install-recommends hyperfine
(cd scripts/bench && npm install --no-audit --no-fund --silent)
cargo build --release -p specstudio --quiet
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
specstudio="$target_dir/release/specstudio"
dclint="$PWD/scripts/bench/node_modules/.bin/dclint"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp examples/serverless-mysql-master-replica.yaml "$work/seed.yaml"
python3 scripts/gen-spec.py 1000 > "$work/spec-1000.yaml"
echo "seed: $(wc -c < "$work/seed.yaml") bytes; generated: $(wc -c < "$work/spec-1000.yaml") bytes"

for file in seed spec-1000; do
  # Both tools exit non-zero when they find problems: ignore exit codes (-i).
  hyperfine -N -i --warmup 3 --min-runs 10 --export-json "$work/$file.json" \
    -n specstudio "$specstudio lint --format json $work/$file.yaml" \
    -n dclint "$dclint --formatter json $work/$file.yaml"
  python3 - "$work/$file.json" "$file" <<'PY'
import json, sys
results = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
ours, peer = results["specstudio"]["median"], results["dclint"]["median"]
print(f"{sys.argv[2]}: specstudio median {ours*1000:.2f} ms, dclint median {peer*1000:.1f} ms, dclint/specstudio = {peer/ours:.0f}x")
PY
done
