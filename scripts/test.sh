#!/usr/bin/env bash
# The whole test suite, from a fresh Debian machine with Rust:
# system packages, the MySQL image, the UI build, lints, every test.
set -euo pipefail
cd "$(dirname "$0")/.."
step() { printf '\n==> %s\n' "$*"; }
started=$SECONDS

step "system packages"
scripts/setup-system.sh --tests

step "MySQL image (images/mysql/build.sh, cached)"
bash images/mysql/build.sh

step "UI build into dist/ (the one wasm build)"
cargo run -q -p xtask -- build-ui
step "shared builds for wasm32 on its own"
cargo build -q -p specstudio-shared --target wasm32-unknown-unknown --profile wasm-release

step "format and lints"
cargo fmt --all -- --check
cargo clippy -q --workspace --all-targets -- -D warnings

step "cargo tests (unit, fixtures, CLI, wasm parity, API, Docker end-to-end)"
cargo test --workspace --no-fail-fast

step "browser end-to-end tests (headless Chromium)"
for test in tests/e2e/*.test.mjs; do
  [[ -e "$test" ]] || continue
  echo "--- $test"
  node "$test"
done

echo "test.sh finished in $((SECONDS - started)) s"
