#!/usr/bin/env bash
# Build editors/vscode/specstudio.vsix (npm ci + vsce package), proving the
# extension packages. Fails with CI=true when npm is missing.
set -euo pipefail
cd "$(dirname "$0")"
if ! command -v npm >/dev/null; then
  if [[ "${CI:-}" == "true" ]]; then echo "npm is missing" >&2; exit 1; fi
  echo "!!! SKIPPING the VS Code package: npm is not installed" >&2
  exit 0
fi
npm ci --no-audit --no-fund --loglevel=error
npm run -s package
node -e '
  const zip = require("fs").readFileSync("specstudio.vsix").toString("latin1");
  for (const f of ["extension/extension.js", "extension/package.json", "extension/node_modules/vscode-languageclient/node.js"])
    if (!zip.includes(f)) { console.error(`specstudio.vsix lacks ${f}`); process.exit(1); }'
echo "built $(pwd)/specstudio.vsix ($(wc -c <specstudio.vsix) bytes)"
