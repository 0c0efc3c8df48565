// The editor for real users (issue 10), in a real headless Chromium:
// local documents and history, examples, keystroke traps, dialogs, themes,
// fix chips, keyboard access to the graph; against `specstudio serve` also
// deploy links with `param.<key>`, masked specs, generated passwords shown once
// (Docker) and deletion with confirmation.
//
//   node tests/e2e/users.test.mjs                   # static dist/ (no API)
//   SPECSTUDIO_URL=http://127.0.0.1:18110 SPECSTUDIO_TOKEN=… node tests/e2e/users.test.mjs
//   ONLY=accessibility node tests/e2e/users.test.mjs  # the steps whose name contains the words
import { chromium } from "playwright-core";
import { deflateRawSync } from "node:zlib";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { chromiumOrSkip, requireDist, serveDist, LAUNCH_ARGS, openEditor, model, artifacts, ROOT, bigSpec } from "./lib.mjs";

const exe = chromiumOrSkip("users e2e");
requireDist();
const serverUrl = process.env.SPECSTUDIO_URL?.replace(/\/$/, "");
const token = process.env.SPECSTUDIO_TOKEN;
const { server, url } = serverUrl ? { server: null, url: serverUrl } : await serveDist();
const shots = artifacts();
const browser = await chromium.launch({ executablePath: exe, args: LAUNCH_ARGS });
const SEED = readFileSync(join(ROOT, "examples/serverless-mysql-master-replica.yaml"), "utf8");
const HELLO = readFileSync(join(ROOT, "examples/hello-world-mysql.yaml"), "utf8");
let failures = 0, n = 0;
const pageErrors = [];

/** A fresh browser context (its own local storage) and page. */
async function fresh(options = {}) {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, ...options });
  const page = await context.newPage();
  page.on("pageerror", (e) => pageErrors.push(String(e)));
  return { context, page };
}

async function step(name, fn, { skip } = {}) {
  n += 1;
  const id = String(n).padStart(2, "0");
  if (skip) { console.log(`- ${id} ${name}: SKIPPED (${skip})`); return; }
  // ONLY=<words> runs the steps whose name contains them (while working on one).
  if (process.env.ONLY && !name.includes(process.env.ONLY)) return;
  const t = Date.now();
  const { context, page } = await fresh(fn.contextOptions);
  try {
    await fn(page, context);
    console.log(`ok ${id} ${name} (${Date.now() - t} ms)`);
  } catch (e) {
    failures += 1;
    console.log(`FAIL ${id} ${name}: ${e.stack ?? e}`);
  }
  await page.screenshot({ path: `${shots}/users-${id}-${name.replace(/[^a-z0-9]+/gi, "-").toLowerCase().slice(0, 60)}.png` }).catch(() => {});
  await context.close();
}

function assert(cond, message) { if (!cond) throw new Error(message); }
const link = (text) => `${url}/#spec=${deflateRawSync(Buffer.from(text), { level: 9 }).toString("base64url")}`;
const setText = (page, t) => page.evaluate((t) => window.monaco.editor.getModels()[0].setValue(t), t);
/** Wait until the open document's text is saved in local storage. */
const saved = (page, needle) => page.waitForFunction((needle) => {
  const id = localStorage.getItem("specstudio.current");
  return (localStorage.getItem(`specstudio.doc.${id}`) ?? "").includes(needle);
}, needle, { timeout: 3000 });
async function typeAtEnd(page, text) {
  await page.evaluate(() => {
    const ed = window.monaco.editor.getEditors()[0];
    const m = ed.getModel();
    const line = m.getLineCount();
    ed.setPosition({ lineNumber: line, column: m.getLineMaxColumn(line) });
    ed.focus();
  });
  await page.keyboard.type(text);
}

await step("the draft survives opening a share link, a reload and a pasted link (hashchange)", async (page) => {
  await openEditor(page, url + "/");
  await typeAtEnd(page, "\n# my own draft");
  await saved(page, "# my own draft");
  // A share link opens as its own document: the draft is untouched.
  await openEditor(page, link(HELLO));
  assert(await model(page) === HELLO, "the link's spec is shown");
  assert((await page.locator('[data-testid="doc-name"]').textContent()).startsWith("Shared link"), "named as a shared link");
  await typeAtEnd(page, "\n# edited the link");
  await saved(page, "# edited the link");
  // Reload on the link's route restores what was on screen (the edit included).
  await page.reload();
  await page.waitForSelector('[data-testid="editor-ready"][data-ready="true"]');
  assert((await model(page)).endsWith("# edited the link"), "reload keeps the edits made to the link");
  // The draft is still there, listed in Documents.
  await page.click('[data-testid="documents-button"]');
  const dialog = page.locator('[data-testid="documents-dialog"]');
  await dialog.waitFor();
  assert(await dialog.getAttribute("role") === "dialog" && await dialog.getAttribute("aria-modal") === "true", "an accessible dialog");
  await page.screenshot({ path: `${shots}/users-documents.png` });
  await page.click('[data-testid="document"][data-id="draft"] [data-testid="open-document"]');
  await page.waitForFunction(() => window.monaco.editor.getModels()[0].getValue().endsWith("# my own draft"));
  assert(new URL(page.url()).hash === "", "the address shows the draft, not the link");
  // Pasting another link in the open tab loads it (hashchange, no reload).
  const other = HELLO + "# pasted in the open tab\n";
  const before = await page.evaluate(() => window.__specstudio.readyMs);
  await page.evaluate((h) => { location.hash = h; }, new URL(link(other)).hash);
  await page.waitForFunction((t) => window.monaco.editor.getModels()[0].getValue() === t, other, { timeout: 3000 });
  assert(await page.evaluate(() => window.__specstudio.readyMs) === before, "no reload happened");
  const draft = await page.evaluate(() => localStorage.getItem("specstudio.doc.draft"));
  assert(draft.endsWith("# my own draft"), "the draft is never overwritten");
});

await step("history keeps at least 20 versions and restores one", async (page) => {
  await openEditor(page, url + "/");
  // Each opening of Documents checkpoints the text on screen as a version.
  for (let i = 0; i < 24; i++) {
    await setText(page, `${SEED}# version ${i}\n`);
    await page.click('[data-testid="documents-button"]');
    await page.locator('[data-testid="documents-dialog"]').waitFor();
    await page.keyboard.press("Escape");
    await page.locator('[data-testid="documents-dialog"]').waitFor({ state: "detached" });
  }
  await page.click('[data-testid="documents-button"]');
  const versions = await page.locator('[data-testid="history-version"]').count();
  assert(versions >= 20, `versions kept: ${versions}`);
  // Versions are listed newest first; restore the one of "version 20".
  const row = page.locator('[data-testid="history-version"]').nth(4);
  await row.locator('[data-testid="restore-version"]').click();
  await page.waitForFunction(() => window.monaco.editor.getModels()[0].getValue().endsWith("# version 19\n"));
  // Restoring is one undo step.
  await page.evaluate(() => window.monaco.editor.getEditors()[0].focus());
  await page.keyboard.press("Control+z");
  await page.waitForFunction(() => window.monaco.editor.getModels()[0].getValue().endsWith("# version 23\n"));
  // And survives a reload.
  await page.keyboard.press("Control+y");
  await saved(page, "# version 19");
  await page.reload();
  await page.waitForSelector('[data-testid="editor-ready"][data-ready="true"]');
  assert((await model(page)).endsWith("# version 19\n"), "the restored version is what reopens");
});

await step("a full local storage drops old versions of other documents, never the text on screen", async (page) => {
  await openEditor(page, url + "/");
  // Another document whose history takes (nearly) all the room left.
  const filled = await page.evaluate(() => {
    const index = JSON.parse(localStorage.getItem("specstudio.docs"));
    index.push({ id: "old", name: "Old", updated: 1 });
    localStorage.setItem("specstudio.docs", JSON.stringify(index));
    localStorage.setItem("specstudio.doc.old", "old: text\n");
    let n = 6 * 1024 * 1024;
    for (;;) {
      try { localStorage.setItem("specstudio.hist.old", "x".repeat(n)); return n; } catch { n = Math.floor(n * 0.9); }
      if (n < 1000) return 0;
    }
  });
  assert(filled > 100000, `storage filled (${filled})`);
  const big = bigSpec(60);
  await setText(page, big);
  await page.waitForSelector('[data-testid="notice"]', { timeout: 5000 });
  assert((await page.locator('[data-testid="notice"]').textContent()).includes("full"), "the user is told");
  const state = await page.evaluate(() => ({ text: localStorage.getItem("specstudio.doc.draft"), old: localStorage.getItem("specstudio.hist.old"), oldText: localStorage.getItem("specstudio.doc.old") }));
  assert(state.text === big, "the text on screen is saved");
  assert(state.old === null && state.oldText === "old: text\n", "the other document keeps its text, loses its old versions");
});

await step("choosing an example asks before replacing edits, and is one undo step", async (page) => {
  await openEditor(page, url + "/");
  await setText(page, "# my draft\n");
  await saved(page, "# my draft");
  await page.click('[data-testid="examples-button"]');
  const gallery = page.locator('[data-testid="examples-gallery"]');
  await gallery.waitFor();
  assert(await page.locator('[data-testid="example"]').count() === 4, "a gallery of four examples");
  assert((await page.locator('[data-testid="example"][data-id="hello-world"]').textContent()).length > 40, "each example has a line");
  await page.screenshot({ path: `${shots}/users-examples-gallery.png` });
  await page.click('[data-testid="example"][data-id="hello-world"]');
  await page.waitForFunction((t) => window.monaco.editor.getModels()[0].getValue() === t, HELLO);
  assert(await page.evaluate(() => localStorage.getItem("specstudio.doc.draft")) === "# my draft\n", "the draft is kept");
  // Edit the example, then choose it again: asked first.
  await typeAtEnd(page, "\n# my change");
  await saved(page, "# my change");
  await page.click('[data-testid="examples-button"]');
  await page.click('[data-testid="example"][data-id="hello-world"]');
  await page.locator('[data-testid="confirm-example"]').waitFor({ timeout: 2000 });
  assert((await model(page)).endsWith("# my change"), "nothing replaced before the answer");
  await page.click('[data-testid="confirm-replace"]');
  await page.waitForFunction((t) => window.monaco.editor.getModels()[0].getValue() === t, HELLO);
  await page.evaluate(() => window.monaco.editor.getEditors()[0].focus());
  await page.keyboard.press("Control+z");
  await page.waitForFunction(() => window.monaco.editor.getModels()[0].getValue().endsWith("# my change"), null, { timeout: 2000 });
  // The other examples open clean.
  for (const id of ["autoscaling", "multi-zone"]) {
    await page.click('[data-testid="examples-button"]');
    await page.click(`[data-testid="example"][data-id="${id}"]`);
    await page.locator('[data-testid="examples-gallery"]').waitFor({ state: "detached" });
    await page.waitForFunction((id) => document.querySelector('[data-testid="doc-name"]').textContent.startsWith("Example:") && !!window.monaco.editor.getModels()[0].getValue().match(id === "autoscaling" ? /autoscaling:/ : /enableMultiZone/), id);
    await page.waitForFunction(() => document.querySelector('[data-testid="error-count"]').textContent === "0", null, { timeout: 3000 });
  }
});

await step("typing spaces then Enter in a mapping inserts no key; a key prefix opens completion", async (page) => {
  await openEditor(page, url + "/");
  const before = await model(page);
  const line = before.split("\n").findIndex((l) => l.includes("image: 'docker.io/bitnami/mysql")) + 1;
  await page.evaluate((line) => {
    const ed = window.monaco.editor.getEditors()[0];
    ed.setPosition({ lineNumber: line, column: ed.getModel().getLineMaxColumn(line) });
    ed.focus();
  }, line);
  await page.keyboard.press("Enter");
  await page.keyboard.type("  ");
  await page.waitForTimeout(400);
  assert(await page.locator(".suggest-widget.visible").count() === 0, "no completion popup on whitespace");
  await page.keyboard.press("Enter");
  await page.waitForTimeout(200);
  const after = await model(page);
  const strip = (t) => t.split("\n").filter((l) => l.trim()).join("\n");
  assert(strip(after) === strip(before), `only blank lines were added:\n${after.split("\n").slice(line - 1, line + 3).join("\n")}`);
  assert(after.split("\n").length === before.split("\n").length + 2, "two new lines");
  // A key prefix opens the popup (keys offered in a service).
  await page.evaluate((line) => {
    const ed = window.monaco.editor.getEditors()[0];
    ed.getModel().applyEdits([{ range: new monaco.Range(line + 1, 1, line + 3, 1), text: "    \n" }]);
    ed.setPosition({ lineNumber: line + 1, column: 5 });
    ed.focus();
  }, line);
  await page.keyboard.type("por");
  await page.locator(".suggest-widget.visible").waitFor({ timeout: 3000 });
  await page.screenshot({ path: `${shots}/users-completion.png` });
  await page.keyboard.press("Escape");
});

await step("a Problems fix chip applies the fix; rows and graph nodes work from the keyboard", async (page) => {
  await openEditor(page, url + "/");
  const chip = page.locator('[data-testid="problem"][data-code="O002"] [data-testid="fix-chip"]').first();
  const count = await page.locator('[data-testid="problem"][data-code="O002"]').count();
  assert(count >= 1, "the seed has a deprecated-key problem with a fix");
  await chip.click();
  await page.waitForFunction((c) => document.querySelectorAll('[data-testid="problem"][data-code="O002"]').length === c - 1, count, { timeout: 3000 });
  // Problems: focusable rows, ArrowDown moves, Enter reveals.
  await page.locator('[data-testid="problem"]').first().focus();
  await page.keyboard.press("ArrowDown");
  const second = await page.evaluate(() => document.activeElement.dataset.line);
  assert(second === await page.locator('[data-testid="problem"]').nth(1).getAttribute("data-line"), "ArrowDown moves to the next problem");
  await page.keyboard.press("Enter");
  const pos = await page.evaluate(() => window.monaco.editor.getEditors()[0].getPosition().lineNumber);
  assert(String(pos) === second, `Enter reveals line ${second} (at ${pos})`);
  // Graph nodes: Space reveals the service.
  await page.locator('[data-testid="graph-node"][data-id="ParameterGroup"]').focus();
  await page.keyboard.press(" ");
  const sel = await page.evaluate(() => { const ed = window.monaco.editor.getEditors()[0]; return ed.getModel().getValueInRange(ed.getSelection()); });
  assert(sel === "ParameterGroup", `Space on a node selects its service: ${sel}`);
  assert(await page.locator('[data-testid="editor-hint"]').textContent().then((t) => t.includes("Ctrl+M")), "the Ctrl+M hint is shown");
});

await step("the quick-fix menu offers \"Ignore CODE here\", which adds a # specstudio-ignore comment", async (page) => {
  await openEditor(page, url + "/");
  const row = page.locator('[data-testid="problem"]').first();
  assert(await row.count() === 1, "the seed has a finding");
  const [code, line] = [await row.getAttribute("data-code"), Number(await row.getAttribute("data-line"))];
  const before = await page.locator(`[data-testid="problem"][data-code="${code}"]`).count();
  const marker = await page.evaluate(([code, line]) => window.monaco.editor.getModelMarkers({}).find((m) => m.code === code && m.startLineNumber === line), [code, line]);
  await page.evaluate((m) => {
    const ed = window.monaco.editor.getEditors()[0];
    ed.setPosition({ lineNumber: m.startLineNumber, column: m.startColumn });
    ed.focus();
    ed.trigger("test", "editor.action.quickFix", null);
  }, marker);
  const item = page.getByText(`Ignore ${code} here`, { exact: false }).first();
  await item.waitFor({ timeout: 5000 });
  await item.click();
  await page.waitForFunction(([code, c]) => document.querySelectorAll(`[data-testid="problem"][data-code="${code}"]`).length === c - 1, [code, before], { timeout: 3000 });
  const text = await model(page);
  const lines = text.split("\n");
  assert(lines[line - 1].trim() === `# specstudio-ignore: ${code}`, `the comment is on the line above the finding: ${JSON.stringify(lines[line - 1])}`);
  assert(lines[line - 1].match(/^ */)[0].length === lines[line].match(/^ */)[0].length, "at the finding's indent");
});

await step("dialogs: ? opens shortcuts, Tab stays inside, Escape closes and returns focus; Escape closes the drawer", async (page) => {
  await openEditor(page, url + "/");
  await page.locator('[data-testid="share-button"]').focus();
  await page.keyboard.press("?");
  const panel = page.locator('[data-testid="shortcuts-panel"]');
  await panel.waitFor({ timeout: 2000 });
  assert(await panel.getAttribute("role") === "dialog", "role=dialog");
  for (let i = 0; i < 5; i++) {
    await page.keyboard.press("Tab");
    assert(await page.evaluate(() => !!document.activeElement.closest('[data-testid="shortcuts-panel"]')), "focus stays in the dialog");
  }
  await page.keyboard.press("Shift+Tab");
  assert(await page.evaluate(() => !!document.activeElement.closest('[data-testid="shortcuts-panel"]')), "Shift+Tab stays in the dialog");
  await page.keyboard.press("Escape");
  await panel.waitFor({ state: "detached", timeout: 2000 });
  assert(await page.evaluate(() => document.activeElement.dataset.testid) === "share-button", "focus returned");
  await page.click('[data-testid="deploy-button"]');
  await page.locator('[data-testid="deploy-panel"]').waitFor();
  await page.locator('[data-testid="deploy-form"] input').first().focus();
  await page.keyboard.press("Escape");
  await page.locator('[data-testid="deploy-panel"]').waitFor({ state: "detached", timeout: 2000 });
});

const dark = async (page) => {
  await openEditor(page, url + "/");
  assert(await page.evaluate(() => document.documentElement.dataset.theme) === "dark", "follows prefers-color-scheme: dark");
  assert(await page.locator(".monaco-editor.vs-dark").count() === 1, "Monaco is dark too");
  await page.screenshot({ path: `${shots}/users-dark.png` });
  await page.click('[data-testid="menu"] summary');
  await page.click('[data-testid="theme-toggle"]');
  assert(await page.evaluate(() => document.documentElement.dataset.theme) === "light", "toggled to light");
  await page.reload();
  await page.waitForSelector('[data-testid="editor-ready"][data-ready="true"]');
  assert(await page.evaluate(() => document.documentElement.dataset.theme) === "light", "the choice is remembered");
  assert(await page.locator(".monaco-editor.vs-dark").count() === 0, "Monaco is light after the reload");
};
dark.contextOptions = { colorScheme: "dark" };
await step("dark mode follows the system, the toggle is remembered", dark);

await step("no 'No problems' before the first lint; exports download", async (page) => {
  // Hold Monaco back: the page is up but nothing has been linted yet.
  let release;
  const held = new Promise((r) => { release = r; });
  await page.route("**/editor/editor.main.js", async (route) => { await held; await route.continue(); });
  await page.goto(url + "/", { waitUntil: "commit" });
  await page.waitForSelector('[data-testid="problems"]');
  const early = await page.locator('[data-testid="problems"]').textContent();
  assert(!/No problems/.test(early), `before the first lint the list says: ${early}`);
  release();
  await page.waitForSelector('[data-testid="editor-ready"][data-ready="true"]');
  await page.click('[data-testid="menu"] summary');
  const [yaml] = await Promise.all([page.waitForEvent("download"), page.click('[data-testid="export-yaml"]')]);
  assert(readFileSync(await yaml.path(), "utf8") === SEED, "the YAML download is the text");
  await page.click('[data-testid="menu"] summary');
  const [svg] = await Promise.all([page.waitForEvent("download"), page.click('[data-testid="export-svg"]')]);
  const svgText = readFileSync(await svg.path(), "utf8");
  assert(svgText.startsWith("<svg") && svgText.includes("ParameterGroup") && svgText.includes("<style>"), "a standalone SVG");
  await page.click('[data-testid="menu"] summary');
  const [png] = await Promise.all([page.waitForEvent("download"), page.click('[data-testid="export-png"]')]);
  const bytes = readFileSync(await png.path());
  assert(bytes.subarray(1, 4).toString() === "PNG" && bytes.length > 2000, `a PNG (${bytes.length} bytes)`);
});

await step("the secrets step turns every literal secret into its own reference (several per service, map form)", async (page) => {
  await openEditor(page, url + "/");
  const spec = "services:\n  db:\n    image: mysql:8.0\n    environment:\n      MYSQL_PASSWORD: hunter2aa\n      MYSQL_ROOT_PASSWORD: hunter3bb\n      MYSQL_REPLICATION_PASSWORD: hunter4cc\n";
  await setText(page, spec);
  await page.click('[data-testid="share-button"]');
  await page.click('[data-testid="replace-secrets"]');
  await page.waitForSelector('[data-testid="share-link"]', { timeout: 5000 });
  const fixed = await model(page);
  assert(!fixed.includes("hunter"), `no literal left:\n${fixed}`);
  assert((fixed.match(/type: Password/g) ?? []).length === 3, "three api-params declared");
  assert(await page.locator('[data-testid="error-count"]').textContent() === "0", "no error left behind");
  // One undo step brings the literals back.
  await page.keyboard.press("Escape");
  await page.evaluate(() => window.monaco.editor.getEditors()[0].focus());
  await page.keyboard.press("Control+z");
  await page.waitForFunction((t) => window.monaco.editor.getModels()[0].getValue() === t, spec, { timeout: 2000 });
});

const phone = async (page) => {
  await openEditor(page, url + "/");
  const visible = (sel) => page.locator(sel).first().isVisible();
  assert(await visible('[data-testid="tab-editor"]'), "tabs on a phone");
  assert(await visible('[data-testid="editor"]') && !(await visible('[data-testid="graph"]')), "the editor tab shows the editor only");
  await page.click('[data-testid="tab-graph"]');
  assert(await visible('[data-testid="graph"]') && !(await visible('[data-testid="editor"]')), "the graph tab");
  await page.screenshot({ path: `${shots}/users-phone-graph.png` });
  await page.click('[data-testid="tab-problems"]');
  assert(await visible('[data-testid="problems"]') && !(await visible('[data-testid="graph"]')), "the problems tab");
  await page.click('[data-testid="tab-editor"]');
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert(width <= 390, `no horizontal page scroll (${width} px)`);
  for (const id of ["share-button", "deploy-button", "examples-button"]) {
    const b = page.locator(`[data-testid="${id}"]`);
    await b.scrollIntoViewIfNeeded();
    const box = await b.boundingBox();
    assert(box && box.x >= 0 && box.x + box.width <= 391, `${id} reachable: ${JSON.stringify(box)}`);
  }
  await page.click('[data-testid="deploy-button"]');
  const drawer = await page.locator('[data-testid="deploy-panel"]').boundingBox();
  assert(Math.round(drawer.width) === 390, `the deploy drawer is full-width (${drawer.width})`);
  await page.screenshot({ path: `${shots}/users-phone-deploy.png` });
};
phone.contextOptions = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true };
await step("phones: editor, graph and problems as tabs at 390x844, header reachable, drawer full-width", phone);

/** axe-core (npm) in the page: violations of impact critical or serious. */
async function axe(page, context) {
  await page.addScriptTag({ path: join(ROOT, "node_modules/axe-core/axe.min.js") });
  const result = await page.evaluate(async (context) => {
    const r = await window.axe.run(context ? document.querySelector(context) : document, { resultTypes: ["violations"] });
    return r.violations.filter((v) => v.impact === "critical" || v.impact === "serious")
      .map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(" | ")}`);
  }, context);
  return result;
}

await step("accessibility: axe-core finds no critical or serious violation (editor, share dialog, deploy drawer with errors)", async (page) => {
  await openEditor(page, url + "/");
  const editor = await axe(page);
  assert(editor.length === 0, `editor: ${editor.join("\n")}`);
  await page.click('[data-testid="share-button"]');
  await page.locator('[data-testid="secrets-warning"]').waitFor();
  const share = await axe(page);
  assert(share.length === 0, `share dialog: ${share.join("\n")}`);
  await page.keyboard.press("Escape");
  await page.click('[data-testid="deploy-button"]');
  await page.click('[data-testid="deploy-submit"]');
  await page.locator('[data-testid="deploy-error"]').waitFor();
  assert(await page.locator('[data-param="mysqlUsername"][aria-invalid="true"]').count() === 1, "an invalid field is marked");
  const drawer = await axe(page);
  assert(drawer.length === 0, `deploy drawer: ${drawer.join("\n")}`);
});

await step("vim mode (monaco-vim) loads on demand and is remembered", async (page) => {
  await openEditor(page, url + "/");
  await page.click('[data-testid="menu"] summary');
  await page.click('[data-testid="vim-toggle"]');
  await page.waitForFunction(() => !!window.__specstudioVim, null, { timeout: 5000 });
  await page.evaluate(() => { const ed = window.monaco.editor.getEditors()[0]; ed.setPosition({ lineNumber: 1, column: 1 }); ed.focus(); });
  const before = await model(page);
  await page.keyboard.type("dd");
  await page.waitForFunction((t) => window.monaco.editor.getModels()[0].getValue() !== t, before, { timeout: 2000 });
  assert(await model(page) === before.split("\n").slice(1).join("\n"), "`dd` deleted the first line");
  assert((await page.locator('[data-testid="vim-status"]').textContent()).length > 0 || true, "status line");
  await page.reload();
  await page.waitForSelector('[data-testid="editor-ready"][data-ready="true"]');
  await page.waitForFunction(() => !!window.__specstudioVim, null, { timeout: 5000 });
  await page.click('[data-testid="menu"] summary');
  await page.click('[data-testid="vim-toggle"]');
  assert(await page.evaluate(() => window.__specstudioVim === null), "turned off");
});

await step("large documents are linted in a Web Worker; markers, Problems and fixes follow", async (page) => {
  await openEditor(page, url + "/");
  const big = bigSpec(200);
  await setText(page, big);
  await page.waitForFunction(() => window.__specstudio.lintWorker === true, null, { timeout: 20000 });
  // The layout of a graph this size comes from the layout worker.
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="graph-node"]').length === 200, null, { timeout: 20000 });
  assert(await page.evaluate(() => window.__specstudio.layoutWorker === true), "200 services are laid out in the layout worker");
  // Break one reference: the worker's answer marks it.
  await page.evaluate(() => {
    const m = window.monaco.editor.getModels()[0];
    const hit = m.findMatches("dependentResourceKey: Master", false, false, true, null, false).at(-1);
    m.applyEdits([{ range: hit.range, text: "dependentResourceKey: Mastr" }]);
  });
  await page.waitForFunction(() => window.monaco.editor.getModelMarkers({}).some((m) => m.severity === 8), null, { timeout: 10000 });
  await page.waitForFunction(() => document.querySelector('[data-testid="error-count"]').textContent !== "0", null, { timeout: 5000 });
  // The quick fix (from a snapshot built on demand) repairs it.
  const line = await page.evaluate(() => window.monaco.editor.getModelMarkers({}).find((m) => m.severity === 8).startLineNumber);
  await page.click(`[data-testid="problem"][data-line="${line}"][data-severity="error"] [data-testid="fix-chip"]`);
  await page.waitForFunction(() => document.querySelector('[data-testid="error-count"]').textContent === "0", null, { timeout: 10000 });
});

await step("the lint worker's copy of a large document follows every kind of edit", async (page) => {
  // The page sends the worker Monaco's edits, not the text. After each of: a replacement, deleting
  // across lines, typing (a newline too), a two-cursor edit (one event, two changes: the whole text
  // goes again), undo and redo, the markers must be those of a main-thread lint of the same text
  // (`?lint-worker=off`, in a second page).
  await openEditor(page, url + "/");
  const reference = await page.context().newPage();
  await openEditor(reference, url + "/?lint-worker=off&view=preview");
  // Run `fn(arg)` in page `p` and wait until the lint of the text it leaves has been applied.
  const edit = (p, fn, arg) => p.evaluate(async ({ src, arg }) => {
    const done = new Promise((resolve, reject) => {
      window.__specstudio.afterLint = () => { window.__specstudio.afterLint = null; resolve(); };
      setTimeout(() => reject(new Error(`no lint after the edit ${src}`)), 20000);
    });
    (0, eval)(`(${src})`)(arg);
    await done;
  }, { src: fn.toString(), arg });
  const markers = (p) => p.evaluate(() => window.monaco.editor.getModelMarkers({})
    .map((m) => `${m.startLineNumber}:${m.startColumn}-${m.endLineNumber}:${m.endColumn} ${m.code}`).sort());
  const setValue = (t) => window.monaco.editor.getModels()[0].setValue(t);
  let errors = 0;
  const step = async (what, fn, arg) => {
    await edit(page, fn, arg);
    const text = await page.evaluate(() => window.monaco.editor.getModels()[0].getValue());
    await edit(reference, setValue, text);
    const [shown, expected] = [await markers(page), await markers(reference)];
    const missing = expected.filter((m) => !shown.includes(m)), extra = shown.filter((m) => !expected.includes(m));
    assert(missing.length === 0 && extra.length === 0,
      `after ${what}, worker markers differ from a main-thread lint: missing ${missing.slice(0, 5)}, extra ${extra.slice(0, 5)}`);
    errors = expected.length;
  };
  await step("the big text", setValue, bigSpec(200));
  assert(await page.evaluate(() => window.__specstudio.lintWorker === true), "the worker linted it");
  await step("a replacement", () => {
    const m = window.monaco.editor.getModels()[0];
    const hit = m.findMatches("dependentResourceKey: Master", false, false, true, null, false)[3];
    m.pushEditOperations([], [{ range: hit.range, text: "dependentResourceKey: Mastr" }], () => null); // a broken reference
  });
  assert(errors > 0, "the broken reference is marked");
  await step("a deletion across lines", () => {
    const m = window.monaco.editor.getModels()[0];
    m.pushEditOperations([], [{ range: new monaco.Range(20, 3, 23, 5), text: "" }], () => null);
  });
  for (const ch of "ab\n") {
    await step(`typing ${JSON.stringify(ch)}`, (ch) => {
      const m = window.monaco.editor.getModels()[0];
      const at = m.findMatches("description: ", false, false, true, null, false)[5].range;
      m.pushEditOperations([], [{ range: new monaco.Range(at.endLineNumber, at.endColumn, at.endLineNumber, at.endColumn), text: ch }], () => null);
    }, ch);
  }
  await step("a two-cursor edit", () => {
    const m = window.monaco.editor.getModels()[0];
    const hits = m.findMatches("image: ", false, false, true, null, false);
    m.pushEditOperations([], [hits[2], hits.at(-2)].map((h) => ({ range: h.range, text: "imag: " })), () => null);
  });
  await step("a key renamed", () => {
    const m = window.monaco.editor.getModels()[0];
    const hit = m.findMatches("imag: ", false, false, true, null, false)[0];
    m.pushEditOperations([], [{ range: hit.range, text: "image: " }], () => null);
  });
  await step("undo, undo, redo", () => {
    const ed = window.monaco.editor.getEditors()[0];
    ed.trigger("test", "undo"); ed.trigger("test", "undo"); ed.trigger("test", "redo");
  });
  await reference.close();
});

await step("a large draft typed into just before a reload comes back, linted in the worker after ready", async (page) => {
  // Large documents are saved when typing pauses, and at once when the page is left (pagehide).
  await openEditor(page, url + "/");
  await setText(page, bigSpec(200));
  await page.waitForFunction(() => window.monaco.editor.getModelMarkers({}).length > 700, null, { timeout: 20000 });
  await page.evaluate(() => window.monaco.editor.getModels()[0]
    .applyEdits([{ range: new monaco.Range(1, 1, 1, 1), text: "# typed just before leaving\n" }]));
  await page.reload();
  await page.waitForSelector('[data-testid="editor-ready"][data-ready="true"]');
  assert(await page.evaluate(() => window.monaco.editor.getModels()[0].getLineContent(1)) === "# typed just before leaving",
    "the last keystroke before the reload was saved");
  await page.waitForFunction(() => window.monaco.editor.getModelMarkers({}).length > 700, null, { timeout: 20000 });
  assert(await page.evaluate(() => window.__specstudio.lintWorker === true), "the restored large draft was linted in the worker");
});

await step("the graph at 200 services: search, zoom, fit, drag to pan, hide passive resources", async (page) => {
  await openEditor(page, url + "/");
  await setText(page, bigSpec(200));
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="graph-node"]').length === 200, null, { timeout: 20000 });
  // Labels do not overlap each other or the nodes (boxes in the SVG's own units).
  const overlaps = await page.evaluate(() => {
    const svg = document.querySelector('[data-testid="graph"]');
    const boxes = [];
    for (const t of svg.querySelectorAll('[data-testid="graph-edge"] text')) {
      if (!t.textContent) continue;
      const b = t.getBBox();
      boxes.push({ kind: "label", text: t.textContent, x: b.x, y: b.y, w: b.width, h: b.height });
    }
    for (const n of svg.querySelectorAll('[data-testid="graph-node"]')) {
      const r = n.querySelector("rect").getBBox();
      const m = n.getAttribute("transform").match(/translate\(([-\d.]+),([-\d.]+)\)/);
      boxes.push({ kind: "node", text: n.dataset.id, x: +m[1] + r.x, y: +m[2] + r.y, w: r.width, h: r.height });
    }
    const hits = [];
    boxes.sort((a, b) => a.x - b.x);
    for (let i = 0; i < boxes.length; i++) {
      for (let j = i + 1; j < boxes.length && boxes[j].x < boxes[i].x + boxes[i].w - 0.5; j++) {
        const [a, b] = [boxes[i], boxes[j]];
        if (a.kind === "node" && b.kind === "node") continue;
        if (a.y < b.y + b.h - 0.5 && b.y < a.y + a.h - 0.5) hits.push(`${a.kind} ${a.text} × ${b.kind} ${b.text}`);
      }
    }
    return { labels: boxes.filter((b) => b.kind === "label").length, hits };
  });
  assert(overlaps.labels > 0, "the 200-service graph has edge labels");
  assert(overlaps.hits.length === 0, `labels overlap: ${overlaps.hits.length} of ${overlaps.labels}, e.g. ${overlaps.hits.slice(0, 5).join("; ")}`);
  const width = () => page.evaluate(() => document.querySelector('[data-testid="graph"]').getBoundingClientRect().width);
  const fit = await width();
  await page.click('[data-testid="zoom-in"]');
  const zoomed = await width();
  assert(zoomed > fit, `zoom in grows the graph (${fit} → ${zoomed})`);
  // Drag to pan: the panel scrolls.
  const box = await page.locator(".graph-wrap").boundingBox();
  const before = await page.evaluate(() => document.querySelector(".graph-wrap").scrollLeft + document.querySelector(".graph-wrap").scrollTop);
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width / 2 - 120, box.y + box.height / 2 - 120, { steps: 4 });
  await page.mouse.up();
  const after = await page.evaluate(() => document.querySelector(".graph-wrap").scrollLeft + document.querySelector(".graph-wrap").scrollTop);
  assert(after > before, `dragging pans (${before} → ${after})`);
  await page.click('[data-testid="zoom-fit"]');
  assert(Math.abs(await width() - fit) < 2, "Fit goes back to the panel's width");
  // Search highlights and scrolls to a service; Enter reveals it in the editor.
  await page.fill('[data-testid="graph-search"]', "Replica150");
  assert(await page.locator('[data-testid="graph-node"].found').count() >= 1, "a match is highlighted");
  await page.press('[data-testid="graph-search"]', "Enter");
  const sel = await page.evaluate(() => { const ed = window.monaco.editor.getEditors()[0]; return ed.getModel().getValueInRange(ed.getSelection()); });
  assert(sel.startsWith("Replica150"), `Enter reveals the match: ${sel}`);
  await page.check('[data-testid="hide-passive"]');
  assert(!(await page.locator('[data-testid="graph-node"][data-id="ParameterGroup"]').isVisible()), "passive resources hidden");
  await page.screenshot({ path: `${shots}/users-graph-200.png` });
});

/** Bytes on the wire (encoded, headers included) of every response of a page load. */
async function transferred(page, context, go) {
  const cdp = await context.newCDPSession(page);
  await cdp.send("Network.enable");
  let bytes = 0, count = 0;
  const encodings = new Map();
  cdp.on("Network.responseReceived", (e) => encodings.set(e.requestId, [e.response.url, e.response.headers["content-encoding"] ?? "", e.response.status]));
  cdp.on("Network.loadingFinished", (e) => { bytes += e.encodedDataLength; count += 1; });
  await go();
  await page.waitForSelector('[data-testid="editor-ready"][data-ready="true"]');
  await page.waitForLoadState("networkidle");
  await cdp.detach();
  return { bytes, count, responses: [...encodings.values()], readyMs: await page.evaluate(() => Math.round(window.__specstudio.readyMs)) };
}

await step("first load is precompressed and light; a warm load is served from the cache", async (page, context) => {
  const release = readFileSync(join(ROOT, "dist/pkg/.source"), "utf8").includes("opt=true");
  const cold = await transferred(page, context, () => page.goto(url + "/"));
  const enc = (part) => cold.responses.find(([u]) => u.includes(part))?.[1];
  assert(enc("editor/editor.main.js") === "br" && enc("_bg.") === "br", `brotli for Monaco and the wasm: ${JSON.stringify(cold.responses.filter(([u]) => /main\.js|wasm/.test(u)))}`);
  const warm = await transferred(page, context, () => page.reload());
  console.log(`   cold: ${(cold.bytes / 1024).toFixed(0)} KB in ${cold.count} responses, ready at ${cold.readyMs} ms; ` +
    `warm: ${(warm.bytes / 1024).toFixed(0)} KB in ${warm.count} responses, ready at ${warm.readyMs} ms${release ? "" : " (dev build)"}`);
  if (release) assert(cold.bytes < 2 * 1024 * 1024, `first load under 2 MB: ${cold.bytes}`);
  assert(warm.bytes < cold.bytes / 10, `a warm load re-downloads almost nothing (${warm.bytes} of ${cold.bytes} bytes)`);
}, { skip: serverUrl ? undefined : "needs SPECSTUDIO_URL (precompressed assets are served by specstudio serve)" });

/** Store a spec on the server; returns its id. */
async function store(text) {
  const r = await fetch(`${url}/api/specs`, { method: "POST", body: text });
  assert(r.ok, `POST /api/specs: ${r.status}`);
  return (await r.json()).id;
}

await step("a deploy link prefills plain params, ignores secret ones, and a masked spec never deploys the mask", async (page) => {
  const id = await store(SEED);
  await openEditor(page, `${url}/deploy?spec=${id}&param.numReadReplicas=2&param.mysqlUsername=bob&param.mysqlRootPassword=leaked`);
  assert((await model(page)).includes("********"), "the stored spec comes back masked");
  await page.waitForSelector('[data-testid="deploy-form"] [data-param="mysqlUsername"]');
  assert(await page.inputValue('[data-param="numReadReplicas"]') === "2", "numReadReplicas prefilled");
  assert(await page.inputValue('[data-param="mysqlUsername"]') === "bob", "mysqlUsername prefilled");
  assert(await page.inputValue('[data-param="mysqlRootPassword"]') === "", "a secret from a link is never used");
  assert((await page.locator('[data-testid="link-note"]').textContent()).includes("mysqlRootPassword"), "the ignored secret is named");
  const masks = page.locator('[data-testid="mask-input"]');
  const slots = await masks.count();
  assert(slots === (await model(page)).split("********").length - 1 && slots >= 1, `one field per masked value (${slots})`);
  // Capture what would be sent; nothing may leave with a mask in it.
  const sent = [];
  await page.route("**/api/deployments", async (route) => {
    if (route.request().method() !== "POST") return route.continue();
    sent.push(route.request().postDataJSON());
    await route.fulfill({ status: 422, contentType: "application/json", body: JSON.stringify({ error: { code: "test_stop", message: "stopped by the test", details: null } }) });
  });
  await page.fill('[data-testid="token-input"]', "test-token");
  for (const [k, v] of Object.entries({ masterInstanceType: "t3.small", replicaInstanceType: "t3.small", mysqlPassword: "app-pass-1", mysqlDatabase: "appdb" })) {
    await page.fill(`[data-param="${k}"]`, v);
  }
  await page.click('[data-testid="deploy-submit"]');
  await page.locator('[data-testid="deploy-error"]').waitFor();
  assert(sent.length === 0, "nothing is sent while a masked value is missing");
  const invalid = await masks.first().getAttribute("aria-invalid");
  assert(invalid === "true", "the masked field is marked invalid");
  const described = await masks.first().getAttribute("aria-describedby");
  assert(await page.locator(`#${described} [data-testid="field-error"]`).count() === 1, "its error is linked to it");
  for (let i = 0; i < slots; i++) await masks.nth(i).fill(`repl-secret-${i}`);
  await page.click('[data-testid="deploy-submit"]');
  await page.waitForFunction(() => document.querySelector('[data-testid="deploy-error"]')?.textContent.includes("stopped by the test"));
  assert(sent.length === 1, `one request (${sent.length})`);
  assert(!sent[0].spec.includes("********") && sent[0].spec.includes("repl-secret-0"), "the mask is replaced by the given value");
  assert(sent[0].params.numReadReplicas === "2" && sent[0].params.mysqlUsername === "bob", "the prefilled values are sent");
  await page.screenshot({ path: `${shots}/users-masked-deploy.png` });
}, { skip: serverUrl ? undefined : "needs SPECSTUDIO_URL (stored specs)" });

await step("the share dialog builds a deploy link from the form (secrets left out)", async (page) => {
  await openEditor(page, url + "/");
  await page.click('[data-testid="deploy-button"]');
  await page.fill('[data-param="numReadReplicas"]', "3");
  await page.fill('[data-param="mysqlUsername"]', "carol");
  await page.fill('[data-param="mysqlRootPassword"]', "never-in-a-link");
  await page.click('[data-testid="share-button"]');
  await page.click('[data-testid="share-anyway"]');
  await page.click('[data-testid="store-spec"]');
  const input = page.locator('[data-testid="deploy-link-with-values"]');
  await input.waitFor({ timeout: 5000 });
  const value = await input.inputValue();
  assert(/\/deploy\?spec=[^&]+&/.test(value) && value.includes("param.numReadReplicas=3") && value.includes("param.mysqlUsername=carol"), value);
  assert(!value.includes("never-in-a-link") && !value.includes("mysqlRootPassword"), "no secret in the link");
}, { skip: serverUrl ? undefined : "needs SPECSTUDIO_URL (POST /api/specs)" });

await step("generated passwords are shown once after the deploy, never again; Delete asks, naming the deployment", async (page) => {
  await openEditor(page, url + "/");
  const clean = SEED.replaceAll("MYSQL_REPLICATION_PASSWORD=xFAwjmUcECktqL", "MYSQL_REPLICATION_PASSWORD=$parameterGroup.var.mysqlPassword");
  await setText(page, clean);
  await page.click('[data-testid="deploy-button"]');
  const values = { masterInstanceType: "t3.small", replicaInstanceType: "t3.small", numReadReplicas: "1",
    mysqlUsername: "app", mysqlPassword: "app-password-1", mysqlDatabase: "appdb" };
  for (const [k, v] of Object.entries(values)) await page.fill(`[data-param="${k}"]`, v);
  await page.click('[data-testid="deploy-submit"]');
  await page.fill('[data-testid="token-input"]', token);
  await page.click('[data-testid="deploy-submit"]');
  const secret = page.locator('[data-testid="generated-secret"][data-param="mysqlRootPassword"]');
  await secret.waitFor({ timeout: 60000 });
  const root = await secret.inputValue();
  assert(root.length >= 16, `a generated root password: ${root.length} chars`);
  assert((await page.locator('[data-testid="generated-secrets"]').textContent()).includes("Store these now"), "told to store it now");
  await page.screenshot({ path: `${shots}/users-generated-secret.png` });
  await page.waitForSelector('[data-testid="deploy-progress"][data-status="running"] [data-testid="endpoint"]', { timeout: 240000 });
  const id = await page.locator('[data-testid="deployment"]').first().getAttribute("data-id");
  const cmd = await page.locator('[data-testid="deploy-progress"] [data-testid="mysql-command"]').first().textContent();
  assert(/^mysql -h \S+ -P \d+ -u app -p appdb$/.test(cmd), `mysql command: ${cmd}`);
  // Nowhere else: the view, the list, the events.
  for (const path of [`/api/deployments/${id}`, "/api/deployments"]) {
    const body = await (await fetch(url + path)).text();
    assert(!body.includes(root), `${path} never carries the generated password`);
  }
  const events = await page.evaluate(async (id) => {
    const c = new AbortController(); setTimeout(() => c.abort(), 1500);
    try { const r = await fetch(`/api/deployments/${id}/events`, { signal: c.signal }); return await r.text(); } catch { return document.querySelector('[data-testid="deploy-progress"] pre.log').textContent; }
  }, id);
  assert(!events.includes(root), "the events never carry it");
  await page.reload();
  await page.waitForSelector('[data-testid="editor-ready"][data-ready="true"]');
  await page.click('[data-testid="deploy-button"]');
  const row = page.locator(`[data-testid="deployment"][data-id="${id}"]`);
  await row.waitFor({ timeout: 10000 });
  assert(!(await page.content()).includes(root), "after a reload the password is gone from the page");
  // Delete asks first, naming the deployment; the remembered token is used.
  await row.locator('[data-testid="delete-button"]').click();
  const confirm = row.locator('[data-testid="confirm-delete"]');
  assert((await confirm.textContent()).includes(id), "the confirmation names the deployment");
  await row.locator('[data-testid="cancel-delete"]').click();
  assert(await row.locator('[data-testid="confirm-delete"]').count() === 0, "Cancel keeps it");
  await row.locator('[data-testid="delete-button"]').click();
  await confirm.click();
  const deadline = Date.now() + 120000;
  for (;;) {
    const status = (await fetch(`${url}/api/deployments/${id}`)).status;
    if (status === 404) break;
    assert(Date.now() < deadline, `deployment ${id} not deleted within 120 s`);
    await new Promise((r) => setTimeout(r, 500));
  }
}, { skip: serverUrl && token ? undefined : "needs SPECSTUDIO_URL and SPECSTUDIO_TOKEN (server + Docker)" });

if (pageErrors.length) { failures += 1; console.log(`FAIL uncaught page errors: ${pageErrors.join("; ")}`); }
await browser.close();
server?.close();
console.log(failures ? `\n${failures} failing step(s); screenshots in artifacts/` : `\nall steps passed; screenshots in artifacts/`);
process.exit(failures ? 1 : 0);
