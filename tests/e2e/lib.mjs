// Shared helpers of the browser end-to-end tests: find Chromium, serve dist/,
// open the editor and wait until it is ready with markers.
import { createServer } from "node:http";
import { existsSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { extname, join, normalize, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = resolve(fileURLToPath(import.meta.url), "../../..");
export const DIST = process.env.SPECSTUDIO_DIST ?? join(ROOT, "dist");
export const ARTIFACTS = join(ROOT, "artifacts");

// `CHROMIUM=/path` names the one binary to use (and lets a test see the "missing" path).
const CHROMIUM_CANDIDATES = process.env.CHROMIUM
  ? [process.env.CHROMIUM]
  : ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"];

/** Path of a Chromium binary; fails under CI=true when there is none, else skips loudly. */
export function chromiumOrSkip(name) {
  const found = CHROMIUM_CANDIDATES.find((p) => p && existsSync(p));
  if (found) return found;
  const message = `${name}: no Chromium found (tried ${CHROMIUM_CANDIDATES.filter(Boolean).join(", ")}); install it with \`apt-get install -y chromium chromium-driver\``;
  if (process.env.CI === "true") {
    console.error(`FAIL ${message}`);
    process.exit(1);
  }
  console.error(`\n!!! SKIPPED ${message}\n`);
  process.exit(0);
}

export function requireDist() {
  if (!existsSync(join(DIST, "index.html")) || !existsSync(join(DIST, "pkg/specstudio_frontend_bg.wasm"))) {
    console.error("FAIL dist/ is missing: run `cargo run -p xtask -- build-ui` first");
    process.exit(1);
  }
}

export const LAUNCH_ARGS = [
  "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
  "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
];

const TYPES = {
  ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".mjs": "text/javascript",
  ".css": "text/css", ".wasm": "application/wasm", ".svg": "image/svg+xml", ".json": "application/json",
  ".ttf": "font/ttf", ".woff": "font/woff", ".woff2": "font/woff2", ".png": "image/png",
};

/** A static server over dist/ with the SPA routes (`/s/<id>`, `/deploy`) → index.html. */
export function serveDist() {
  const server = createServer((req, res) => {
    const url = new URL(req.url, "http://x");
    let path = decodeURIComponent(url.pathname);
    if (path === "/" || path.startsWith("/s/") || path === "/deploy" || !extname(path)) path = "/index.html";
    const file = normalize(join(DIST, path));
    if (!file.startsWith(DIST) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, { "Content-Type": "application/json", Connection: "close" });
      res.end(JSON.stringify({ error: { code: "not_found", message: `${path} not found (static test server: no API)` } }));
      return;
    }
    res.writeHead(200, { "Content-Type": TYPES[extname(file)] ?? "application/octet-stream", Connection: "close" });
    res.end(readFileSync(file));
  });
  return new Promise((ok) => server.listen(0, "127.0.0.1", () => ok({ server, url: `http://127.0.0.1:${server.address().port}` })));
}

export function artifacts() {
  mkdirSync(ARTIFACTS, { recursive: true });
  return ARTIFACTS;
}

/** Open the page and wait for the editor to be ready with its first lint applied. */
export async function openEditor(page, url, timeout = 20000) {
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(url);
  await page.waitForSelector('[data-testid="editor-ready"][data-ready="true"]', { timeout });
  await page.waitForFunction(() => window.monaco && window.__specstudio && window.__specstudio.ready === true);
  return errors;
}

export const model = (page) => page.evaluate(() => window.monaco.editor.getModels()[0].getValue());

/** A spec with `n` services: a parameter group, a master and n-2 replicas. */
export function bigSpec(n) {
  const seed = readFileSync(join(ROOT, "examples/serverless-mysql-master-replica.yaml"), "utf8");
  const start = seed.indexOf("  Replica:\n");
  const end = seed.indexOf("  ParameterGroup:\n");
  const replica = seed.slice(start, end);
  let out = seed.slice(0, end);
  for (let i = 2; i < n - 1; i++) out += replica.replace("  Replica:\n", `  Replica${i}:\n`);
  return out + seed.slice(end);
}

export function summary(values) {
  const s = [...values].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { n: s.length, median: +q(0.5).toFixed(2), p95: +q(0.95).toFixed(2), max: +s[s.length - 1].toFixed(2) };
}
