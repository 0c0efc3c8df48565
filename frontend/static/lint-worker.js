// The lint worker: the page's own wasm module (same build, same rules), run off
// the main thread for large documents. It keeps its own copy of the text.
// The page sends {init, js, wasm} once (the content-hashed names it loaded),
// then either {text} (the whole text) or {edits: [offset, length, text, …],
// length} (Monaco's changes since the last request, applied in order; `length`
// checks the result). Each answer is {ms, markers, view}: the markers' JSON and
// the rest of the view's JSON, each `null` when equal to the last answer's; or
// {resync: true} when the copy does not match (the page then sends the text).
let lintParts = null;
let text = null, lastMarkers = null, lastView = null;
const early = [];
self.onmessage = async (event) => {
  const m = event.data;
  if (m.init) {
    const glue = await import(m.js);
    await glue.default({ module_or_path: m.wasm });
    lintParts = glue.lint_parts;
    self.postMessage({ ready: true });
    for (const e of early.splice(0)) answer(e);
    return;
  }
  if (!lintParts) { early.push(m); return; }
  answer(m);
};
function answer(m) {
  if (m.text !== undefined) {
    text = m.text;
    // A whole text starts afresh: the page may have shown something else meanwhile.
    lastMarkers = lastView = null;
  } else {
    if (text !== null) {
      const e = m.edits;
      for (let i = 0; i < e.length; i += 3) text = text.slice(0, e[i]) + e[i + 2] + text.slice(e[i] + e[i + 1]);
    }
    if (text === null || text.length !== m.length) { text = null; self.postMessage({ resync: true }); return; }
  }
  const t = performance.now();
  const out = lintParts(text);
  const ms = performance.now() - t;
  const cut = out.indexOf("\n");
  const markers = out.slice(0, cut), view = out.slice(cut + 1);
  self.postMessage({ ms, markers: markers === lastMarkers ? null : markers, view: view === lastView ? null : view });
  lastMarkers = markers; lastView = view;
}
