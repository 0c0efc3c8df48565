// End-to-end tests of the browser editor in a real headless Chromium (playwright-core
// driving Debian's /usr/bin/chromium). Screenshots of each step go to artifacts/.
//
//   node tests/e2e/editor.test.mjs                 # serves dist/ itself (static; no API)
//   SPECSTUDIO_URL=http://127.0.0.1:8080 SPECSTUDIO_TOKEN=… node tests/e2e/editor.test.mjs
//                                             # against `specstudio serve`: adds the >8 KB share
//                                             # through /api/specs and the full deploy (needs Docker)
//
// CI=true and no Chromium → exit 1; locally without Chromium → a loud SKIP.
import { chromium } from "playwright-core";
import { chromiumOrSkip, requireDist, serveDist, LAUNCH_ARGS, openEditor, model, artifacts, bigSpec } from "./lib.mjs";

const exe = chromiumOrSkip("editor e2e");
requireDist();
const serverUrl = process.env.SPECSTUDIO_URL?.replace(/\/$/, "");
const { server, url } = serverUrl ? { server: null, url: serverUrl } : await serveDist();
const shots = artifacts();
const browser = await chromium.launch({ executablePath: exe, args: LAUNCH_ARGS });
const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
const page = await context.newPage();
let failures = 0, n = 0;

async function step(name, fn, { skip } = {}) {
  n += 1;
  const id = String(n).padStart(2, "0");
  if (skip) { console.log(`- ${id} ${name}: SKIPPED (${skip})`); return; }
  const t = Date.now();
  try {
    await fn();
    console.log(`ok ${id} ${name} (${Date.now() - t} ms)`);
  } catch (e) {
    failures += 1;
    console.log(`FAIL ${id} ${name}: ${e.stack ?? e}`);
  }
  await page.screenshot({ path: `${shots}/e2e-${id}-${name.replace(/[^a-z0-9]+/gi, "-").toLowerCase()}.png` }).catch(() => {});
}

function assert(cond, message) { if (!cond) throw new Error(message); }
const text = (sel) => page.locator(sel).first().textContent();
const edge = (from, to, kind) => page.locator(`[data-testid="graph-edge"][data-from="${from}"][data-to="${to}"][data-kind="${kind}"]`);
const TOKEN = "dependentResourceKey: Master";

/** Line and column (1-based, UTF-16) of the `Master` in `dependentResourceKey: Master`. */
const masterToken = () => page.evaluate((needle) => {
  const m = window.monaco.editor.getModels()[0].findMatches(needle, false, false, true, null, false)[0];
  return m && { line: m.range.startLineNumber, column: m.range.startColumn + "dependentResourceKey: ".length };
}, TOKEN);

/** Open an example from the gallery (confirming a replacement when asked). */
async function openExample(id) {
  await page.click('[data-testid="examples-button"]');
  await page.click(`[data-testid="example"][data-id="${id}"]`);
  if (await page.locator('[data-testid="confirm-replace"]').count()) await page.click('[data-testid="confirm-replace"]');
  await page.locator('[data-testid="examples-gallery"]').waitFor({ state: "detached", timeout: 2000 });
}

let pageErrors = [];
let brokenCode = null;
await step("seed shows zero errors", async () => {
  pageErrors = await openEditor(page, url + "/");
  const src = await model(page);
  assert(src.includes(TOKEN), "the seed spec is loaded");
  assert((await text('[data-testid="error-count"]')) === "0", `error count is ${await text('[data-testid="error-count"]')}`);
  assert(await page.locator('[data-testid="problems"] [data-testid="problem"][data-severity="error"]').count() === 0, "no error in Problems");
  assert(await page.locator('[data-testid="graph-node"]').count() === 3, "three graph nodes");
  assert(await edge("Replica", "Master", "resource-link").count() === 1, "Replica → Master resource link drawn");
});

await step("every preload hint of the page names a file the page then uses", async () => {
  // index.html preloads Monaco's chunks by the pinned version's names: a Monaco upgrade must update them.
  const { hints, scripts } = await page.evaluate(() => ({
    hints: [...document.querySelectorAll('link[rel="preload"], link[rel="modulepreload"]')].map((l) => ({ href: l.href, as: l.as })),
    scripts: [...document.querySelectorAll("script[src]")].map((s) => s.src),
  }));
  assert(hints.filter((h) => h.as === "script").length >= 5, `script preload hints: ${JSON.stringify(hints)}`);
  for (const { href, as } of hints) {
    const res = await fetch(href);
    assert(res.ok, `${href}: HTTP ${res.status}`);
    // Monaco's AMD loader adds a <script src> per module it loads.
    if (as === "script") assert(scripts.includes(href), `${href} is preloaded but no script of the page loads it`);
  }
});

let broken;
await step("breaking dependentResourceKey: Master marks the token", async () => {
  broken = await masterToken();
  // Type like a user: select `Master` and type over it.
  await page.evaluate(({ line, column }) => {
    const ed = window.monaco.editor.getEditors()[0];
    ed.setSelection(new monaco.Range(line, column, line, column + 6));
    ed.focus();
  }, broken);
  await page.keyboard.type("Mastr");
  await page.waitForFunction(() => window.monaco.editor.getModels()[0].getValue().includes("dependentResourceKey: Mastr"));
  const markers = await page.evaluate(() => window.monaco.editor.getModelMarkers({}).map((m) => ({
    line: m.startLineNumber, col: m.startColumn, end: m.endColumn, severity: m.severity, code: typeof m.code === "string" ? m.code : m.code?.value, message: m.message })));
  const hit = markers.find((m) => m.line === broken.line && m.col === broken.column && m.severity === 8);
  assert(hit, `an error marker on ${broken.line}:${broken.column}; markers: ${JSON.stringify(markers.filter((m) => m.line === broken.line))}`);
  assert(hit.end === broken.column + 5, `the marker covers the token (ends at ${hit.end})`);
  brokenCode = hit.code;
  await page.waitForSelector(`[data-testid="problem"][data-line="${broken.line}"][data-code="${hit.code}"][data-severity="error"]`, { timeout: 3000 });
  assert(Number(await text('[data-testid="error-count"]')) >= 1, "error count went up");
  await page.waitForFunction(() => !document.querySelector('[data-testid="graph-edge"][data-from="Replica"][data-to="Master"][data-kind="resource-link"]'), null, { timeout: 3000 });
  const badge = await page.locator('[data-testid="graph-node"][data-id="Replica"] [data-testid="node-badge"]').count();
  assert(badge === 1, "the Replica node carries an error badge");
});

await step("hover explains the problem", async () => {
  const box = await page.evaluate(({ line, column }) => {
    const ed = window.monaco.editor.getEditors()[0];
    ed.revealLineInCenter(line);
    const p = ed.getScrolledVisiblePosition({ lineNumber: line, column: column + 2 });
    const r = ed.getDomNode().getBoundingClientRect();
    return { x: r.left + p.left, y: r.top + p.top + p.height / 2 };
  }, broken);
  await page.mouse.move(box.x, box.y);
  await page.waitForSelector(".monaco-hover-content", { timeout: 5000 });
  const hover = await page.locator(".monaco-hover-content").first().innerText();
  assert(/Master/.test(hover), `hover mentions Master: ${hover.slice(0, 200)}`);
  // The rule's docs are not in the page's wasm: the first hover fetched them (docs.<hash>.json).
  const why = await page.evaluate(async (code) => {
    const docs = await (await fetch(window.__specstudioPkg.docs)).json();
    return docs.rules[code]?.split("## Why")[1] ?? "";
  }, brokenCode);
  const words = why.replace(/[`*_\[\]()]/g, "").trim().split(/\s+/).slice(0, 5).join(" ");
  assert(words.length > 10, `rule ${brokenCode} has a Why section in docs.json: ${why.slice(0, 100)}`);
  const shows = await page.waitForFunction((w) => [...document.querySelectorAll(".monaco-hover-content")]
    .some((e) => e.innerText.replace(/\s+/g, " ").includes(w)), words, { timeout: 5000 }).then(() => true, () => false);
  const shownText = (await page.locator(".monaco-hover-content").allInnerTexts()).join(" ").replace(/\s+/g, " ");
  assert(shows, `the hover shows the rule's Why (${words}): ${shownText.slice(0, 400)}`);
});

await step("quick fix restores the reference", async () => {
  await page.mouse.move(5, 5);
  await page.evaluate(({ line, column }) => {
    const ed = window.monaco.editor.getEditors()[0];
    ed.setPosition({ lineNumber: line, column: column + 2 });
    ed.focus();
  }, broken);
  await page.keyboard.press("Control+Period");
  const item = page.locator(".action-widget .action-label, .action-widget [role=option]").filter({ hasText: "Master" }).first();
  await item.waitFor({ timeout: 5000 });
  await page.screenshot({ path: `${shots}/e2e-quick-fix-menu.png` });
  await item.click();
  await page.waitForFunction((t) => window.monaco.editor.getModels()[0].getValue().includes(t), TOKEN, { timeout: 3000 });
  await page.waitForFunction(() => document.querySelector('[data-testid="error-count"]').textContent === "0", null, { timeout: 3000 });
  await edge("Replica", "Master", "resource-link").waitFor({ timeout: 3000 });
});

let original;
await step("problem click jumps to the token", async () => {
  original = await model(page);
  const first = page.locator('[data-testid="problem"]').first();
  const line = Number(await first.getAttribute("data-line"));
  await first.click();
  const pos = await page.evaluate(() => window.monaco.editor.getEditors()[0].getPosition().lineNumber);
  assert(pos === line, `cursor on line ${line} (is ${pos})`);
});

await step("graph: stable while typing elsewhere, click reveals the service, cycles are highlighted", async () => {
  const positions = () => page.$$eval('[data-testid="graph-node"]', (ns) => ns.map((n) => `${n.dataset.id}@${n.getAttribute("transform")}`).join(" "));
  const before = await positions();
  await page.evaluate(() => {
    const model = window.monaco.editor.getModels()[0];
    const m = model.findMatches("description: Root Password", false, false, true, null, false)[0];
    model.applyEdits([{ range: m.range, text: "description: Root password of the database" }]);
  });
  await page.waitForTimeout(100);
  assert(await positions() === before, "an unrelated edit moved graph nodes");
  await page.evaluate((t) => window.monaco.editor.getModels()[0].setValue(t), original);
  await page.locator('[data-testid="graph-node"][data-id="ParameterGroup"]').click();
  const sel = await page.evaluate(() => {
    const ed = window.monaco.editor.getEditors()[0];
    return ed.getModel().getValueInRange(ed.getSelection());
  });
  assert(sel === "ParameterGroup", `selection after the click: ${sel}`);
  const cyclic = original.replace("  ParameterGroup:\n    image: omnistrate/noop\n", "  ParameterGroup:\n    image: omnistrate/noop\n    depends_on:\n      - Replica\n");
  await page.evaluate((t) => window.monaco.editor.getModels()[0].setValue(t), cyclic);
  await page.waitForSelector('[data-testid="graph-edge"][data-from="ParameterGroup"][data-to="Replica"][data-kind="depends-on"][data-cycle="true"]', { timeout: 3000 });
  assert(await page.locator('[data-testid="graph-edge"][data-from="Replica"][data-to="ParameterGroup"][data-cycle="true"]').count() >= 1, "the other half of the cycle is marked");
  await page.screenshot({ path: `${shots}/e2e-cycle.png` });
  await page.evaluate((t) => window.monaco.editor.getModels()[0].setValue(t), original);
});

await step("a YAML syntax error keeps the last graph, marked stale", async () => {
  const broken = original.replace("services:\n", "services:\n  Broken: [\n");
  await page.evaluate((t) => window.monaco.editor.getModels()[0].setValue(t), broken);
  await page.waitForSelector('[data-testid="graph-stale"]', { timeout: 3000 });
  const nodes = await page.locator('[data-testid="graph-node"]').count();
  assert(nodes === 3, `the last graph stays while the YAML is broken: ${nodes} nodes`);
  assert(await page.locator('[data-testid="problem"][data-code="Y001"]').count() === 1, "the syntax error is listed");
  await page.screenshot({ path: `${shots}/e2e-yaml-error-keeps-graph.png` });
  await page.evaluate((t) => window.monaco.editor.getModels()[0].setValue(t), original);
  await page.waitForSelector('[data-testid="graph-stale"]', { state: "detached", timeout: 3000 });
});

let shareLink;
await step("share link reproduces the text in a fresh page", async () => {
  // A spec without literal secrets (and with non-ASCII text) travels exactly.
  const clean = original
    .replaceAll("MYSQL_REPLICATION_PASSWORD=xFAwjmUcECktqL", "MYSQL_REPLICATION_PASSWORD=$parameterGroup.var.mysqlPassword")
    .replace("description: Master Instance Type", "description: Tipo de instância do mestre 😀");
  await page.evaluate((t) => window.monaco.editor.getModels()[0].setValue(t), clean);
  await page.click('[data-testid="share-button"]');
  const dialog = page.locator('[data-testid="share-dialog"]');
  await dialog.waitFor({ timeout: 5000 });
  shareLink = await page.locator('[data-testid="share-link"]').inputValue();
  assert(shareLink.includes("#spec="), `a fragment link: ${shareLink.slice(0, 80)}`);
  const fresh = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const p2 = await fresh.newPage();
  await openEditor(p2, shareLink);
  const restored = await model(p2);
  assert(restored === clean, `restored text differs (${restored.length} vs ${clean.length} chars)`);
  const preview = await page.locator('[data-testid="preview-link"]').inputValue();
  await openEditor(p2, preview);
  assert(await model(p2) === clean, "the preview holds the same text");
  const ro = await p2.evaluate(() => window.monaco.editor.getEditors()[0].getOption(window.monaco.editor.EditorOption.readOnly));
  assert(ro === true, "the preview is read-only");
  await p2.screenshot({ path: `${shots}/e2e-preview.png` });
  await page.locator('[data-testid="share-dialog"] button', { hasText: "Close" }).click();

  // A spec with a literal password: the warning, then a link that masks it.
  await page.evaluate((t) => window.monaco.editor.getModels()[0].setValue(t), original);
  await page.click('[data-testid="share-button"]');
  await page.locator('[data-testid="secrets-warning"]').waitFor({ timeout: 5000 });
  await page.screenshot({ path: `${shots}/e2e-secrets-warning.png` });
  await page.click('[data-testid="share-anyway"]');
  await dialog.waitFor();
  const maskedLink = await page.locator('[data-testid="share-link"]').inputValue();
  await openEditor(p2, maskedLink);
  const masked = await model(p2);
  assert(!masked.includes("xFAwjmUcECktqL"), "the literal password never travels in a link");
  assert(masked === original.replaceAll("xFAwjmUcECktqL", "********"), "everything else is kept");
  await fresh.close();
  // Escape closes the dialog and gives focus back to the Share button.
  await page.keyboard.press("Escape");
  await page.locator('[data-testid="share-dialog"]').waitFor({ state: "detached", timeout: 2000 });
  assert(await page.evaluate(() => document.activeElement?.dataset.testid) === "share-button", "focus returns to the Share button");
});

await step("text survives a reload", async () => {
  await page.reload();
  await page.waitForSelector('[data-testid="editor-ready"][data-ready="true"]');
  assert(await model(page) === original, "local storage kept the text");
});

await step("literal secrets are flagged before sharing and replaced by references", async () => {
  await openExample("serverless");
  await page.waitForFunction(() => window.monaco.editor.getModels()[0].getValue().includes("xFAwjmUcECktqL"));
  await page.click('[data-testid="share-button"]');
  await page.waitForSelector('[data-testid="secrets-warning"]', { timeout: 3000 });
  await page.click('[data-testid="replace-secrets"]');
  await page.waitForSelector('[data-testid="share-link"]', { timeout: 3000 });
  const replaced = await model(page);
  assert(!replaced.includes("xFAwjmUcECktqL"), "the literal password is gone");
  assert(/\$var\.\w+/.test(replaced), "a $var reference took its place");
  await page.waitForFunction(() => document.querySelector('[data-testid="error-count"]').textContent === "0", null, { timeout: 3000 });
  await page.locator('[data-testid="share-dialog"] button', { hasText: "Close" }).click();
  await openExample("hello-world");
  await page.waitForFunction(() => !window.monaco.editor.getModels()[0].getValue().includes("ParameterGroup"));
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="graph-node"]').length === 2, null, { timeout: 3000 });
  await page.screenshot({ path: `${shots}/e2e-hello-world-example.png` });
  await page.evaluate((t) => window.monaco.editor.getModels()[0].setValue(t), original);
});

await step("deploy form lists the required params", async () => {
  await page.click('[data-testid="deploy-button"]');
  await page.waitForSelector('[data-testid="deploy-form"]');
  const params = await page.$$eval("[data-param]", (els) => els.map((e) => ({ key: e.dataset.param, type: e.type,
    required: !!e.closest(".field").querySelector(".required") })));
  const required = params.filter((p) => p.required).map((p) => p.key).sort();
  const expected = ["masterInstanceType", "mysqlDatabase", "mysqlPassword", "mysqlRootPassword", "mysqlUsername", "replicaInstanceType"];
  assert(JSON.stringify(required) === JSON.stringify(expected), `required params: ${required}`);
  assert(!params.some((p) => p.key === "parameterGroupId" || p.key === "masterInstanceId"), "Resource params are wired, not asked");
  const type = (k) => params.find((p) => p.key === k)?.type;
  assert(type("mysqlRootPassword") === "password" && type("mysqlPassword") === "password", "export:false params are password inputs");
  assert(type("numReadReplicas") === "number", "numReadReplicas is a number input");
  await page.fill('[data-param="numReadReplicas"]', "11");
  await page.waitForSelector('[data-field="numReadReplicas"] [data-testid="field-error"]', { timeout: 2000 });
  await page.fill('[data-param="numReadReplicas"]', "2");
  await page.waitForSelector('[data-field="numReadReplicas"] [data-testid="field-error"]', { state: "detached", timeout: 2000 });
  // Instance types are checked against the table the server applies.
  await page.fill('[data-param="masterInstanceType"]', "t3.smal");
  const typo = await page.waitForSelector('[data-field="masterInstanceType"] [data-testid="field-error"]', { timeout: 2000 });
  assert((await typo.textContent()).includes("t3.small"), "the error suggests the known type");
  await page.fill('[data-param="masterInstanceType"]', "");
});

await step("long specs share through the server", async () => {
  await page.click('[data-testid="deploy-button"]');
  // Random descriptions so the link cannot compress below 8 KB.
  const hex = () => Array.from({ length: 100 }, () => Math.floor(Math.random() * 16).toString(16)).join("");
  const long = bigSpec(120).replace(/description: Replica Instance Type/g, () => `description: ${hex()}`);
  await page.evaluate((t) => window.monaco.editor.getModels()[0].setValue(t), long);
  await page.click('[data-testid="share-button"]');
  if (await page.locator('[data-testid="secrets-warning"]').count()) await page.click('[data-testid="share-anyway"]');
  await page.waitForSelector('[data-testid="share-link"]', { timeout: 5000 });
  const link = await page.locator('[data-testid="share-link"]').inputValue();
  assert(/\/s\/[^/]+/.test(link), `a short /s/<id> link: ${link}`);
  const fresh = await browser.newContext();
  const p2 = await fresh.newPage();
  await openEditor(p2, link);
  // Literal secrets never travel in a link: they come back masked.
  assert(await model(p2) === long.replaceAll("xFAwjmUcECktqL", "********"), "the stored spec reopens, secrets masked");
  await fresh.close();
  await page.locator('[data-testid="share-dialog"] button', { hasText: "Close" }).click();
  await page.evaluate((t) => window.monaco.editor.getModels()[0].setValue(t), original);
}, { skip: serverUrl ? undefined : "needs SPECSTUDIO_URL (POST /api/specs)" });

await step("a Deploy-with-specstudio link opens the stored spec's deploy form", async () => {
  const { id } = await page.evaluate(async (t) => (await fetch("/api/specs", { method: "POST", body: t })).json(), original);
  const fresh = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const p2 = await fresh.newPage();
  await openEditor(p2, `${url}/deploy?spec=${id}`);
  assert(await model(p2) === original.replaceAll("xFAwjmUcECktqL", "********"), "the stored spec is loaded, secrets masked");
  await p2.waitForSelector('[data-testid="deploy-form"] [data-param="mysqlUsername"]', { timeout: 3000 });
  const snippet = await p2.locator('[data-testid="deploy-snippet-md"]').first().textContent();
  assert(snippet.includes(`/deploy?spec=${id}`) && snippet.startsWith("[![Deploy with specstudio]"), `snippet: ${snippet}`);
  await p2.screenshot({ path: `${shots}/e2e-deploy-link.png` });
  await fresh.close();
}, { skip: serverUrl ? undefined : "needs SPECSTUDIO_URL (stored specs)" });

await step("full deploy shows endpoints", async () => {
  await page.evaluate(() => localStorage.removeItem("specstudio.token"));
  if (!(await page.locator('[data-testid="deploy-form"]').count())) await page.click('[data-testid="deploy-button"]');
  const values = { masterInstanceType: "t3.small", replicaInstanceType: "t3.small", numReadReplicas: "1",
    mysqlUsername: "app", mysqlPassword: "app-password-1", mysqlDatabase: "appdb", mysqlRootPassword: "root-password-1" };
  for (const [k, v] of Object.entries(values)) await page.fill(`[data-param="${k}"]`, v);
  await page.click('[data-testid="deploy-submit"]');
  await page.fill('[data-testid="token-input"]', process.env.SPECSTUDIO_TOKEN);
  await page.click('[data-testid="deploy-submit"]');
  await page.waitForSelector('[data-testid="deploy-progress"]', { timeout: 10000 });
  await page.waitForSelector('[data-testid="deploy-progress"][data-status="running"] [data-testid="endpoint"]', { timeout: 240000 });
  const cmd = await page.locator('[data-testid="deploy-progress"] [data-testid="mysql-command"]').first().textContent();
  assert(/^mysql -h \S+ -P \d+ -u app -p appdb$/.test(cmd), `mysql command: ${cmd}`);
  // the event stream, read as the wire's events: steps and the status change, one line each
  await page.waitForFunction(() => document.querySelector('[data-testid="deploy-progress"] pre.log')?.textContent.includes("[status] running"), null, { timeout: 10000 });
  const log = await page.locator('[data-testid="deploy-progress"] pre.log').textContent();
  assert(/^\[step\] network \S+ created$/m.test(log) && !log.includes("does not understand"), `progress log: ${log}`);
  // the reader and the per-replica endpoint (with its zone), and the containers
  const labels = await page.locator('[data-testid="deploy-progress"] [data-testid="endpoint"] .res').allTextContents();
  assert(labels.includes("Replica (reader)") && labels.includes("Replica #0 (zone-a)"), `endpoint labels: ${labels}`);
  const containers = await page.locator('[data-testid="deploy-progress"] [data-testid="containers"]').textContent();
  assert(/Master-0 running/.test(containers) && /Replica-0 running, zone-a/.test(containers), `containers: ${containers}`);
  assert(/Sleeps after \d+ s without a client/.test(await page.locator('[data-testid="deploy-progress"] [data-testid="serverless"]').textContent()), "auto-stop line");
  await page.locator('[data-testid="deploy-progress"] [data-testid="endpoints"]').scrollIntoViewIfNeeded();
  await page.screenshot({ path: `${shots}/e2e-deployed.png` });
  const running = page.locator(`[data-testid="deployment"][data-status="running"]`).first();
  await running.waitFor({ timeout: 10000 });
  // The row by its id: its status changes while it scales, and the list re-renders around it.
  const id = await running.getAttribute("data-id");
  const row = page.locator(`[data-testid="deployment"][data-id="${id}"]`);
  await row.locator('[data-testid="scale-input"]').fill("2");
  await row.locator('[data-testid="scale-button"]').click();
  await row.getByText("scaling…").waitFor({ timeout: 10000 });
  // A list refresh (the followed deployment changes status) keeps the row's message and typed count:
  // still "scaling…", or already "scaled to 2" when a warm spare made the scale settle first (the
  // row is checked every 2 s); never nothing.
  await page.click('[data-testid="deployments"] h3 button');
  await page.waitForTimeout(500);
  await row.getByText(/scaling…|scaled to 2/).waitFor({ timeout: 10000 });
  const typed = await row.locator('[data-testid="scale-input"]').inputValue();
  assert(typed === "2", `typed replica count kept across a refresh: ${typed}`);
  // The message settles once the deployment runs with two replicas: "scaling…" gives way to "scaled to 2".
  await row.getByText("scaled to 2").waitFor({ timeout: 240000 });
  assert(await row.getByText("scaling…").count() === 0, "the scaling message is gone once the scale settled");
  assert(await row.getAttribute("data-status") === "running", `row status after the scale: ${await row.getAttribute("data-status")}`);
  const rowContainers = await row.locator('[data-testid="containers"]').textContent();
  assert(/Replica-0 running/.test(rowContainers) && /Replica-1 running/.test(rowContainers), `row containers after the scale: ${rowContainers}`);
  await row.scrollIntoViewIfNeeded();
  await page.screenshot({ path: `${shots}/e2e-deployments-list.png` });
  await row.locator('[data-testid="delete-button"]').click();
  await row.locator('[data-testid="confirm-delete"]').click();
  await page.waitForFunction(() => ![...document.querySelectorAll('[data-testid="deployment"]')].some((d) => d.dataset.status === "running"), null, { timeout: 60000 });
  // The deletion finishes (containers, volumes and network removed) before the test ends.
  const deadline = Date.now() + 120000;
  for (;;) {
    const status = await page.evaluate(async (id) => (await fetch(`/api/deployments/${id}`)).status, id);
    if (status === 404) break;
    assert(Date.now() < deadline, `deployment ${id} was not deleted within 120 s (status ${status})`);
    await page.waitForTimeout(250);
  }
}, { skip: serverUrl && process.env.SPECSTUDIO_TOKEN ? undefined : "needs SPECSTUDIO_URL and SPECSTUDIO_TOKEN (server + Docker)" });

if (pageErrors.length) { failures += 1; console.log(`FAIL uncaught page errors: ${pageErrors.join("; ")}`); }
await browser.close();
server?.close();
console.log(failures ? `\n${failures} failing step(s); screenshots in artifacts/` : `\nall steps passed; screenshots in artifacts/`);
process.exit(failures ? 1 : 0);
