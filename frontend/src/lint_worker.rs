//! Lint off the main thread for large documents: a module Web Worker
//! (`frontend/static/lint-worker.js`) instantiates the same wasm module and
//! answers [`lint_view`] results as JSON. One lint is in flight at a time; a
//! text typed meanwhile is sent when the answer arrives (a burst costs one
//! lint after the one running). Until the worker is ready (or where there is
//! none) the page lints on the main thread as before.

use std::cell::{Cell, RefCell};

use wasm_bindgen::prelude::*;

#[wasm_bindgen(inline_js = r#"
let worker = null, ready = false;
export function startLintWorker(onResult) {
  const pkg = window.__specstudioPkg;
  if (!pkg || typeof Worker === 'undefined') return;
  try { worker = new Worker(pkg.worker, { type: 'module' }); } catch (e) { return; }
  worker.onmessage = (e) => {
    if (e.data.ready) { ready = true; (window.__specstudio = window.__specstudio || {}).lintWorker = true; return; }
    onResult(e.data.seq, e.data.out, e.data.ms);
  };
  worker.onerror = () => { ready = false; worker = null; };
  worker.postMessage({ init: true, js: new URL(pkg.js, location.href).href, wasm: new URL(pkg.wasm, location.href).href });
}
export function lintWorkerReady() { return ready; }
export function postLint(seq, text) { worker.postMessage({ seq, text }); }
"#)]
extern "C" {
    #[wasm_bindgen(js_name = startLintWorker)]
    fn start_lint_worker(on_result: &Closure<dyn FnMut(f64, String, f64)>);
    #[wasm_bindgen(js_name = lintWorkerReady)]
    fn lint_worker_ready() -> bool;
    #[wasm_bindgen(js_name = postLint)]
    fn post_lint(seq: f64, text: &str);
}

/// In the worker: lint `text` and answer the page's view of it as JSON.
#[wasm_bindgen]
#[allow(unreachable_pub)] // exported to the worker's JS by wasm-bindgen, so it must stay `pub`
pub fn lint_view(text: &str) -> String {
    crate::lint::run(text).to_json()
}

thread_local! {
    static SEQ: Cell<u64> = const { Cell::new(0) };
    static IN_FLIGHT: Cell<Option<u64>> = const { Cell::new(None) };
    /// Texts sent, by sequence number (at most two: in flight and latest).
    static SENT: RefCell<Vec<(u64, String)>> = const { RefCell::new(Vec::new()) };
    static WAITING: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// What the page does with an answer: (text linted, output JSON, worker ms, whether it is the latest text).
pub(crate) type OnResult = dyn Fn(String, String, f64, bool);

/// Start the worker; `apply` receives each answer.
pub(crate) fn start(apply: Box<OnResult>) {
    let on_result =
        Closure::<dyn FnMut(f64, String, f64)>::new(move |seq: f64, out: String, ms: f64| {
            let seq = seq as u64;
            let text = SENT.with(|s| {
                let mut s = s.borrow_mut();
                let text = s.iter().find(|(n, _)| *n == seq).map(|(_, t)| t.clone());
                s.retain(|(n, _)| *n > seq);
                text
            });
            IN_FLIGHT.with(|f| f.set(None));
            let next = WAITING.with(|w| w.borrow_mut().take());
            let latest = next.is_none();
            if let Some(text) = text {
                apply(text, out, ms, latest);
            }
            if let Some(next) = next {
                send(next);
            }
        });
    start_lint_worker(&on_result);
    on_result.forget();
}

pub(crate) fn ready() -> bool {
    lint_worker_ready()
}

fn send(text: String) {
    let seq = SEQ.with(|s| {
        s.set(s.get() + 1);
        s.get()
    });
    post_lint(seq as f64, &text);
    SENT.with(|s| s.borrow_mut().push((seq, text)));
    IN_FLIGHT.with(|f| f.set(Some(seq)));
}

/// Lint `text` in the worker (now, or when the running lint answers).
pub(crate) fn lint(text: String) {
    if IN_FLIGHT.with(|f| f.get()).is_some() {
        WAITING.with(|w| *w.borrow_mut() = Some(text));
    } else {
        send(text);
    }
}
