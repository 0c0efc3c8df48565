#!/usr/bin/env bash
# The fast check, minutes on two cores: formatting, clippy for the native and
# the wasm32 targets, and the tests that need no Docker, browser, node or
# editor (unit tests, the rule fixtures and snapshots, the CLI, the API without
# Docker). The full suite is scripts/test.sh, which runs this first.
#
# usage: scripts/check.sh [--no-tests]
# Lint levels live in the root Cargo.toml ([workspace.lints]), not here.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS
stage_started=$SECONDS
step() {
  if ((SECONDS > started)); then printf '    (%d s)\n' $((SECONDS - stage_started)); fi
  stage_started=$SECONDS
  printf '\n==> %s\n' "$*"
}

step "pinned toolchain"
scripts/setup-system.sh --toolchain

step "format"
cargo fmt --all -- --check

step "clippy, native (every crate, every target)"
cargo clippy -q --workspace --all-targets

step "clippy, wasm32 (the page, and shared under it)"
cargo clippy -q -p specstudio-frontend --features app --target wasm32-unknown-unknown

if [[ "${1:-}" != --no-tests ]]; then
  # Always `--workspace`, like scripts/test.sh, so features unify the same way
  # and both share one build. Integration targets listed here need no Docker,
  # browser or node: shared's (I/O-free by design) and the server's API/CLI.
  step "tests without Docker or a browser"
  cargo test -q --workspace --lib --bins \
    --test rules --test syntax --test seeds --test conformance --test fuzz \
    --test api --test cli --test http_limits
fi

step "done"
echo "check.sh finished in $((SECONDS - started)) s"
