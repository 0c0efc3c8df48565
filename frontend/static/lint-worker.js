// The lint worker: the page's own wasm module (same build, same rules), run off the
// main thread for large documents. The page sends {init, js, wasm} once (the
// content-hashed names it loaded), then {seq, text}; each answer is {seq, out, ms}.
let lintView = null;
const early = [];
self.onmessage = async (event) => {
  const m = event.data;
  if (m.init) {
    const glue = await import(m.js);
    await glue.default({ module_or_path: m.wasm });
    lintView = glue.lint_view;
    self.postMessage({ ready: true });
    for (const e of early.splice(0)) answer(e);
    return;
  }
  if (!lintView) { early.push(m); return; }
  answer(m);
};
function answer(m) {
  const t = performance.now();
  const out = lintView(m.text);
  self.postMessage({ seq: m.seq, out, ms: performance.now() - t });
}
