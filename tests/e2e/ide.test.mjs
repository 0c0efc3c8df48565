// The page's Monaco providers backed by `shared::ide` (the same functions
// `specstudio lsp` serves), in a real headless Chromium: "Format Document"
// (Monaco's `editor.action.formatDocument`), go-to-definition (F12) and
// find-references (Shift+F12 data), and a key's hover with its doc line (the docs are not in the
// page's wasm: the first hover fetches `docs.<hash>.json`).
//
//   node tests/e2e/ide.test.mjs          # serves dist/ itself (static; no API)
//
// CI=true and no Chromium → exit 1; locally without Chromium → a loud SKIP.
import { chromium } from "playwright-core";
import { chromiumOrSkip, requireDist, serveDist, LAUNCH_ARGS, openEditor, model, artifacts } from "./lib.mjs";

const exe = chromiumOrSkip("ide e2e");
requireDist();
const { server, url } = await serveDist();
const shots = artifacts();
const browser = await chromium.launch({ executablePath: exe, args: LAUNCH_ARGS });
const page = await (await browser.newContext({ viewport: { width: 1400, height: 900 } })).newPage();
let failures = 0;

async function step(name, fn) {
  try {
    await fn();
    console.log(`ok ${name}`);
  } catch (e) {
    failures += 1;
    console.log(`FAIL ${name}: ${e.stack ?? e}`);
  }
  await page.screenshot({ path: `${shots}/ide-${name.replace(/[^a-z0-9]+/gi, "-").toLowerCase()}.png` }).catch(() => {});
}
function assert(cond, message) { if (!cond) throw new Error(message); }

const pageErrors = await openEditor(page, url + "/");
const seed = await model(page);

await step("Format Document tidies the text and keeps its meaning", async () => {
  const messy = seed.replace("  Master:\n    image:", "  Master:   \n    image:     ").replace("services:\n", "services:\n\n\n\n");
  await page.evaluate((t) => window.monaco.editor.getEditors()[0].setValue(t), messy);
  await page.evaluate(() => window.monaco.editor.getEditors()[0].getAction("editor.action.formatDocument").run());
  await page.waitForFunction((want) => window.monaco.editor.getModels()[0].getValue() === want,
    seed.replace("services:\n", "services:\n\n"), { timeout: 5000 });
  // Undo restores the messy text in one step.
  await page.evaluate(() => window.monaco.editor.getEditors()[0].trigger("test", "undo"));
  assert((await model(page)) === messy, "one undo step restores the text");
  await page.evaluate((t) => window.monaco.editor.getEditors()[0].setValue(t), seed);
});

await step("go to definition of $master lands on the Master key", async () => {
  const at = await page.evaluate(() => {
    const m = window.monaco.editor.getModels()[0].findMatches("$master.sys", false, false, true, null, false)[0];
    return { lineNumber: m.range.startLineNumber, column: m.range.startColumn + 2 };
  });
  const masterLine = seed.split("\n").indexOf("  Master:") + 1;
  await page.evaluate((pos) => {
    const ed = window.monaco.editor.getEditors()[0];
    ed.setPosition(pos);
    ed.focus();
  }, at);
  await page.keyboard.press("F12");
  await page.waitForFunction((line) => window.monaco.editor.getEditors()[0].getPosition().lineNumber === line,
    masterLine, { timeout: 5000 });
});

await step("hovering a key shows its doc line, fetched with the first hover", async () => {
  const want = await page.evaluate(async () => (await (await fetch(window.__specstudioPkg.docs)).json()).keys.service.image);
  const words = (want ?? "").replace(/[`*_]/g, "").split(/\s+/).slice(0, 4).join(" ");
  assert(words.length > 10, `docs.json holds the service key image: ${want}`);
  const box = await page.evaluate(() => {
    const ed = window.monaco.editor.getEditors()[0];
    const m = ed.getModel().findMatches("    image:", false, false, true, null, false)[0];
    const pos = { lineNumber: m.range.startLineNumber, column: m.range.startColumn + 6 };
    ed.revealLineInCenter(pos.lineNumber);
    const p = ed.getScrolledVisiblePosition(pos);
    const r = ed.getDomNode().getBoundingClientRect();
    return { x: r.left + p.left, y: r.top + p.top + p.height / 2 };
  });
  await page.mouse.move(box.x, box.y);
  const shown = await page.waitForFunction((w) => [...document.querySelectorAll(".monaco-hover-content")]
    .some((e) => e.innerText.replace(/\s+/g, " ").includes(w)), words, { timeout: 5000 }).then(() => true, () => false);
  const text = (await page.locator(".monaco-hover-content").allInnerTexts()).join(" ").replace(/\s+/g, " ");
  assert(shown, `the hover on image: shows "${words}": ${text.slice(0, 300)}`);
});

await step("no page errors", async () => {
  assert(pageErrors.length === 0, `page errors: ${pageErrors.join("; ")}`);
});

await browser.close();
server?.close();
if (failures) {
  console.log(`${failures} failed`);
  process.exit(1);
}
