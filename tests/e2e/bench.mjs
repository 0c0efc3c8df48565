// Figures for BENCHMARKS.md, measured in headless Chromium:
//  - navigation → editor ready with markers (window.__specstudio.readyMs = performance.now() at ready)
//  - per keystroke (a one-character model edit): keypress → next animation frame, and keypress →
//    markers set (in the change event for small texts; from the lint worker's answer for large ones),
//    for the seed spec and a 200-service spec, and the lint's own time (`bigLintMs`: in the worker);
//  - where the time before ready goes (`wire.coldSteps` / `warmSteps`: the page's performance marks);
//  - structural edits at 200 services (renaming a service, one character at a time: a new graph each
//    time): the longest gaps between animation frames while typing (what blocks the page) and
//    keypress → graph redrawn, with the layout worker and with `?layout-worker=off`.
// usage: node tests/e2e/bench.mjs [--runs 5] [--keys 30]
import { chromium } from "playwright-core";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { join } from "node:path";
import { chromiumOrSkip, requireDist, serveDist, LAUNCH_ARGS, openEditor, bigSpec, summary, artifacts, DIST } from "./lib.mjs";

/** Raw and gzip -9 sizes of what the page loads besides Monaco (`cargo run -p xtask -- size` is the check). */
function sizes() {
  const files = ["pkg/specstudio_frontend_bg.wasm", "pkg/specstudio_frontend.js", "pkg/__wasm_split.js", "index.html", "style.css", "dagre.min.js", "graph-layout.js", "lint-worker.js"];
  // brotli sizes as served (written by build-ui) for the two big ones
  const br = (f) => { try { return statSync(join(DIST, f + ".br")).size; } catch { return null; } };
  const snippets = join(DIST, "pkg/snippets");
  for (const dir of readdirSync(snippets)) for (const f of readdirSync(join(snippets, dir))) if (f.endsWith(".js")) files.push(`pkg/snippets/${dir}/${f}`);
  const out = {};
  let raw = 0, gz = 0, ours = 0;
  for (const f of files) {
    const bytes = readFileSync(join(DIST, f));
    const g = gzipSync(bytes, { level: 9 }).length;
    out[f] = { raw: bytes.length, gzip: g, brotli: br(f) };
    raw += bytes.length; gz += g;
    if (f !== "dagre.min.js") ours += g;
  }
  out.total = { raw, gzip: gz, gzipWithoutDagre: ours };
  // The split chunks (deploy drawer, share and header dialogs): fetched on first use, not counted above.
  let lazy = 0;
  for (const f of readFileSync(join(DIST, "pkg/.split-chunks"), "utf8").split("\n").filter(Boolean)) {
    const g = gzipSync(readFileSync(join(DIST, "pkg", f)), { level: 9 }).length;
    out[`pkg/${f}`] = { gzip: g, onDemand: true };
    lazy += g;
  }
  out.total.gzipOnDemand = lazy;
  return out;
}

const arg = (name, dflt) => { const i = process.argv.indexOf(name); return i > 0 ? Number(process.argv[i + 1]) : dflt; };
const runs = arg("--runs", 5), keys = arg("--keys", 30);
const exe = chromiumOrSkip("bench");
requireDist();
const { server, url } = process.env.SPECSTUDIO_URL ? { server: null, url: process.env.SPECSTUDIO_URL } : await serveDist();
const browser = await chromium.launch({ executablePath: exe, args: LAUNCH_ARGS });

async function keystrokes(page, n) {
  return page.evaluate(async (n) => {
    const model = window.monaco.editor.getModels()[0];
    // Type into the value of the first `description:` line (an unrelated edit for the graph).
    const match = model.findMatches("description: ", false, false, true, null, false)[0];
    const line = match.range.startLineNumber, col = match.range.endColumn;
    const times = [], frames = [], lints = [];
    const frame = () => new Promise((r) => requestAnimationFrame(() => r()));
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      // Resolves when the lint of this text has set the markers: inside the change event for
      // small texts; for large ones when the lint worker's answer has been applied.
      const linted = new Promise((resolve) => { window.__specstudio.afterLint = () => resolve(performance.now()); });
      model.applyEdits([{ range: new monaco.Range(line, col + i, line, col + i), text: "x" }]);
      await frame(); // the next frame after the keypress: what typing feels like
      frames.push(performance.now() - t);
      times.push((await linted) - t);
      lints.push(window.__specstudio.lastLintMs); // the lint itself (in the worker for large texts)
      window.__specstudio.afterLint = null;
      await new Promise((r) => setTimeout(r, 5)); // let the page render between keystrokes
    }
    const markers = monaco.editor.getModelMarkers({}).length;
    return { times, frames, lints, markers, chars: model.getValueLength() };
  }, n);
}

/** Rename the service `Replica198` one character at a time (each keystroke a new graph). */
async function structural(page, n) {
  return page.evaluate(async (n) => {
    const model = window.monaco.editor.getModels()[0];
    const match = model.findMatches("  Replica198:", false, false, true, null, false)[0];
    const line = match.range.startLineNumber, col = match.range.endColumn - 1; // before the colon
    const gaps = [], drawn = [];
    let running = true, last = performance.now();
    const loop = (now) => { gaps.push(now - last); last = now; if (running) requestAnimationFrame(loop); };
    requestAnimationFrame(loop);
    let name = "Replica198";
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      model.applyEdits([{ range: new monaco.Range(line, col + i, line, col + i), text: "x" }]);
      name += "x";
      const sel = `[data-testid="graph-node"][data-id="${name}"]`;
      while (!document.querySelector(sel) && performance.now() - t < 15000) await new Promise((r) => setTimeout(r, 2));
      drawn.push(performance.now() - t);
      await new Promise((r) => setTimeout(r, 20));
    }
    running = false;
    return { gaps: gaps.slice(1), drawn };
  }, n);
}

/** Cold then warm load of one context: bytes on the wire (CDP encodedDataLength) and readyMs. */
async function wire() {
  const context = await browser.newContext();
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send("Network.enable");
  let bytes = 0;
  cdp.on("Network.loadingFinished", (e) => { bytes += e.encodedDataLength; });
  const load = async (go) => {
    bytes = 0;
    await go();
    await page.waitForSelector('[data-testid="editor-ready"][data-ready="true"]');
    await page.waitForLoadState("networkidle");
    // Where the time before ready went: performance marks set by the page (navigation start = 0).
    const steps = await page.evaluate(() => Object.fromEntries(performance.getEntriesByType("mark")
      .filter((m) => m.name.startsWith("specstudio:")).map((m) => [m.name.slice(11), Math.round(m.startTime)])));
    return { kb: Math.round(bytes / 1024), readyMs: Math.round(await page.evaluate(() => window.__specstudio.readyMs)), steps };
  };
  const cold = await load(() => page.goto(url + "/"));
  const warm = await load(() => page.reload());
  await context.close();
  return { cold, warm };
}
const wires = [];
for (let r = 0; r < Math.min(runs, 5); r++) wires.push(await wire());

const ready = [];
let bigMainTimes = [], bigMainFrames = [];
let seedTimes = [], bigTimes = [], seedFrames = [], bigFrames = [], bigLints = [], bigInfo = null, seedMarkers = 0;
let structuralWorker = null, structuralMain = null;
for (let r = 0; r < runs; r++) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await openEditor(page, url + "/");
  ready.push(await page.evaluate(() => window.__specstudio.readyMs));
  const seed = await keystrokes(page, keys);
  seedTimes = seedTimes.concat(seed.times.slice(3)); // first keystrokes warm the JIT
  seedFrames = seedFrames.concat(seed.frames.slice(3));
  seedMarkers = seed.markers;
  if (r === 0) {
    const spec = bigSpec(200);
    const t0 = Date.now();
    await page.evaluate((text) => window.monaco.editor.getModels()[0].setValue(text), spec);
    const load = Date.now() - t0;
    // Large texts are linted in a worker, started on first need: wait until it answers.
    await page.waitForFunction(() => window.__specstudio.lintWorker === true, null, { timeout: 20000 });
    const big = await keystrokes(page, keys);
    bigTimes = big.times.slice(3);
    bigFrames = big.frames.slice(3);
    bigLints = big.lints.slice(3);
    bigInfo = { bytes: spec.length, lines: spec.split("\n").length, markers: big.markers, setValueMs: load,
      nodes: await page.locator('[data-testid="graph-node"]').count() };
    await page.screenshot({ path: artifacts() + "/bench-200-services.png" });
    const renames = Math.min(keys, 15);
    structuralWorker = await structural(page, renames);
    // The same renames with the layout on the main thread.
    const onMainLayout = await browser.newPage();
    await openEditor(onMainLayout, url + "/?layout-worker=off");
    await onMainLayout.evaluate((text) => window.monaco.editor.getModels()[0].setValue(text), spec);
    await onMainLayout.waitForFunction(() => document.querySelectorAll('[data-testid="graph-node"]').length === 200, null, { timeout: 20000 });
    structuralMain = await structural(onMainLayout, renames);
    await onMainLayout.close();
    // The same keystrokes with every lint on the main thread (`?lint-worker=off`), for comparison.
    const main = await browser.newPage();
    await openEditor(main, url + "/?lint-worker=off");
    await main.evaluate((text) => window.monaco.editor.getModels()[0].setValue(text), spec);
    await main.waitForTimeout(500);
    const onMain = await keystrokes(main, keys);
    bigMainTimes = onMain.times.slice(3);
    bigMainFrames = onMain.frames.slice(3);
    await main.close();
  }
  await context.close();
}
const result = {
  sizes: sizes(),
  // Against `specstudio serve` (SPECSTUDIO_URL) the assets come precompressed; the static test server sends them raw.
  wire: { server: process.env.SPECSTUDIO_URL ? "specstudio serve" : "static (uncompressed)",
    coldKB: summary(wires.map((w) => w.cold.kb)), warmKB: summary(wires.map((w) => w.warm.kb)),
    coldReadyMs: summary(wires.map((w) => w.cold.readyMs)), warmReadyMs: summary(wires.map((w) => w.warm.readyMs)),
    // per load: mounted (wasm running, Leptos mounted), monaco (its AMD load done), editor (created), ready
    coldSteps: wires.map((w) => w.cold.steps), warmSteps: wires.map((w) => w.warm.steps) },
  readyMs: summary(ready), seedKeystrokeMs: summary(seedTimes), seedKeystrokeToFrameMs: summary(seedFrames), seedMarkers,
  bigKeystrokeMs: summary(bigTimes), bigKeystrokeToFrameMs: summary(bigFrames), bigLintMs: summary(bigLints), big: bigInfo,
  structuralFrameGapMs: { layoutWorker: summary(structuralWorker.gaps), layoutOnMainThread: summary(structuralMain.gaps) },
  structuralRedrawnMs: { layoutWorker: summary(structuralWorker.drawn), layoutOnMainThread: summary(structuralMain.drawn) },
  bigMainThreadKeystrokeMs: summary(bigMainTimes), bigMainThreadKeystrokeToFrameMs: summary(bigMainFrames), chromium: browser.version(),
};
console.log(JSON.stringify(result, null, 2));
writeFileSync(artifacts() + "/bench.json", JSON.stringify(result, null, 2));
await browser.close();
server?.close();
