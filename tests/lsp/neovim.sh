#!/usr/bin/env bash
# Neovim (headless) attaches `specstudio lsp` to a copy of the seed and
# prints the diagnostics it received. Fails with CI=true when nvim is missing.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
bin=$(realpath "${SPECSTUDIO_BIN:-${CARGO_TARGET_DIR:-target}/debug/specstudio}")
if ! command -v nvim >/dev/null; then
  if [[ "${CI:-}" == "true" ]]; then
    echo "nvim is missing (scripts/setup-system.sh --tests installs it)" >&2
    exit 1
  fi
  echo "!!! SKIPPING the Neovim test: nvim is not installed" >&2
  exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp examples/serverless-mysql-master-replica.yaml "$work/compose.yaml"
cd "$work"
SPECSTUDIO_BIN="$bin" timeout 60 nvim --headless --clean -n "+luafile $root/tests/lsp/neovim.lua" compose.yaml
