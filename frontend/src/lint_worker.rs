//! Lint off the main thread for large documents: a module Web Worker
//! (`frontend/static/lint-worker.js`) instantiates the same wasm module and
//! lints its own copy of the text.
//!
//! The keystroke path stays in a few lines of JS (below): the text never
//! crosses into this module. The glue keeps Monaco's edits (offset, length,
//! text) since the last request and sends them, not the 500 KB text; the
//! worker applies them to its copy (a length check, or any event that is not
//! one plain change, sends the whole text again). One lint is in flight at a
//! time and the next one always takes the newest text: a burst of keys costs
//! the running lint plus one, never a queue of stale ones. The worker answers
//! only what changed since its last answer (markers, the rest of the view), so
//! typing inside a value costs the main thread almost nothing.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(inline_js = r#"
let worker = null, ready = false, busy = false, want = false, queued = false, drop = false;
let model = null, edits = [], whole = true;
// Past this many edits between two lints, sending the text is as cheap.
const MAX_EDITS = 600;
function flag(v) { (window.__specstudio = window.__specstudio || {}).lintWorker = v; }
export function startLintWorker(editorModel, onResult, onFailed) {
  const pkg = window.__specstudioPkg;
  if (!pkg || typeof Worker === 'undefined') return false;
  try { worker = new Worker(pkg.worker, { type: 'module' }); } catch (e) { worker = null; return false; }
  model = editorModel;
  model.onDidChangeContent((e) => {
    if (whole) return;
    if (e.changes.length !== 1 || edits.length >= MAX_EDITS) { whole = true; edits = []; return; }
    const c = e.changes[0];
    edits.push(c.rangeOffset, c.rangeLength, c.text);
  });
  worker.onmessage = (e) => {
    const d = e.data;
    if (d.ready) { ready = true; flag(true); if (want) send(); return; }
    busy = false;
    // The worker's copy went astray: the whole text again (unless the page took over).
    if (d.resync) { whole = true; if (!drop) want = true; }
    if (drop || d.resync) { drop = false; if (want) send(); return; }
    if (d.markers != null) monaco.editor.setModelMarkers(model, 'specstudio', JSON.parse(d.markers));
    onResult(d.view, d.ms, !want);
    if (want) send();
  };
  // A worker that fails (wasm refused, a panic) leaves the page linting itself.
  worker.onerror = () => {
    const pending = want || busy;
    try { worker.terminate(); } catch (e) { /* already gone */ }
    worker = null; ready = false; busy = false; want = false; flag(false);
    if (pending) onFailed();
  };
  worker.postMessage({ init: true, js: new URL(pkg.js, location.href).href, wasm: new URL(pkg.wasm, location.href).href });
  return true;
}
export function lintWorkerAlive() { return worker !== null; }
// Lint the model's text once the current event is over (every listener of it
// has run), or as soon as the worker is ready.
export function requestWorkerLint() {
  want = true;
  if (!ready || busy || queued) return;
  queued = true;
  queueMicrotask(() => { queued = false; if (want && ready && !busy) send(); });
}
// The page linted the text itself: forget a pending request, ignore the answer in flight.
export function dropWorkerLint() {
  want = false;
  if (busy) drop = true;
  whole = true; edits = [];
}
function send() {
  if (!worker) return;
  want = false; busy = true;
  if (whole) {
    whole = false; edits = [];
    worker.postMessage({ text: model.getValue() });
  } else {
    const batch = edits; edits = [];
    worker.postMessage({ edits: batch, length: model.getValueLength() });
  }
}
"#)]
extern "C" {
    #[wasm_bindgen(js_name = startLintWorker)]
    fn start_lint_worker(
        model: &crate::monaco::Model,
        on_result: &Closure<dyn FnMut(JsValue, f64, bool)>,
        on_failed: &Closure<dyn FnMut()>,
    ) -> bool;
    #[wasm_bindgen(js_name = lintWorkerAlive)]
    fn lint_worker_alive() -> bool;
    #[wasm_bindgen(js_name = requestWorkerLint)]
    fn request_worker_lint();
    #[wasm_bindgen(js_name = dropWorkerLint)]
    fn drop_worker_lint();
}

/// In the worker: lint `text`; the markers' JSON, a newline, the view's JSON.
#[wasm_bindgen]
#[allow(unreachable_pub)] // exported to the worker's JS by wasm-bindgen, so it must stay `pub`
pub fn lint_parts(text: &str) -> String {
    crate::lint::worker_parts(text)
}

/// What the page does with an answer: (the view's JSON if it changed, worker
/// ms, whether it is of the text on screen now). The markers are already set.
pub(crate) type OnResult = dyn Fn(Option<String>, f64, bool);

thread_local! {
    static STARTED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Start the worker for `model` once. `failed` runs when a worker that had a
/// lint to do dies (the page then lints itself).
pub(crate) fn start(model: &crate::monaco::Model, apply: Box<OnResult>, failed: Box<dyn Fn()>) {
    if STARTED.with(|s| s.replace(true)) {
        return;
    }
    let on_result =
        Closure::<dyn FnMut(JsValue, f64, bool)>::new(move |view: JsValue, ms: f64, latest| {
            apply(view.as_string(), ms, latest)
        });
    let on_failed = Closure::<dyn FnMut()>::new(failed);
    start_lint_worker(model, &on_result, &on_failed);
    on_result.forget();
    on_failed.forget();
}

/// Whether lints can go to the worker: started and not failed (it may still
/// be loading; requests wait for it).
pub(crate) fn usable() -> bool {
    STARTED.with(|s| s.get()) && lint_worker_alive()
}

/// Lint the text on screen in the worker (now, or when the running lint answers).
pub(crate) fn lint() {
    request_worker_lint();
}

/// The page linted the text itself (a small document): nothing pending stays.
pub(crate) fn page_linted() {
    if STARTED.with(|s| s.get()) {
        drop_worker_lint();
    }
}
