//! Live lint: every change of the editor's text is linted, on the main thread
//! up to 64 KB (markers before the next frame), in the lint worker past it
//! (typing never waits); the output goes to the page's signals.

use leptos::prelude::*;
use wasm_bindgen::{JsCast, JsValue};

use crate::lint;
use crate::monaco::Editor;
use crate::state::{now, publish, with_editor, Ctx};

/// Lint the editor's text: markers, Problems, counts, graph, timing.
pub(crate) fn lint_now(ctx: Ctx, editor: &Editor) {
    let started = now();
    let text = editor.value();
    let out = lint::run(&text);
    editor.model().set_markers(&out.markers);
    if !ctx.preview {
        crate::documents::changed(&text);
    }
    show(ctx, out, now() - started, true);
}

/// A lint answered by the worker (`latest`: of the text on screen now).
fn apply_worker_result(ctx: Ctx, json: &str, ms: f64, latest: bool) {
    let Some((out, markers)) = lint::Output::from_json(json) else {
        return;
    };
    with_editor(|e| e.model().set_markers_json(&markers));
    show(ctx, out, ms, latest);
}

/// Put one lint's output on the page.
fn show(ctx: Ctx, out: lint::Output, ms: f64, latest: bool) {
    publish("lastLintMs", JsValue::from_f64(ms));
    ctx.lint_ms.set(ms);
    // Only notify what changed: typing inside a value usually leaves the
    // Problems list as it was, and re-rendering hundreds of rows is not free.
    if ctx.counts.get_untracked() != out.counts {
        ctx.counts.set(out.counts);
    }
    if ctx.problems.with_untracked(|p| *p != out.problems) {
        ctx.problems.set(out.problems);
    }
    // While the YAML does not parse (a half-typed line), the graph keeps the
    // last spec that did, marked stale, instead of flickering to nothing.
    if ctx.graph_stale.get_untracked() == out.parsed {
        ctx.graph_stale.set(!out.parsed);
    }
    if out.parsed && ctx.graph.with_untracked(|g| *g != out.graph) {
        ctx.graph.set(out.graph);
    }
    ctx.note_lint();
    if !ctx.linted.get_untracked() {
        ctx.linted.set(true);
    }
    if !latest {
        return;
    }
    // Test/benchmark hook: `window.__specstudio.afterLint()` runs after each lint
    // of the text on screen.
    if let Some(hook) = web_sys::window()
        .and_then(|w| js_sys::Reflect::get(&w, &JsValue::from_str("__specstudio")).ok())
        .and_then(|o| js_sys::Reflect::get(&o, &JsValue::from_str("afterLint")).ok())
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
    {
        let _ = hook.call0(&JsValue::NULL);
    }
}

/// Texts up to this size are linted synchronously on every change; larger
/// ones on the next task, so a burst of keystrokes costs one lint.
const SYNC_LINT_BYTES: f64 = 64.0 * 1024.0;

thread_local! {
    static LINT_PENDING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

fn worker_disabled() -> bool {
    web_sys::window()
        .and_then(|w| w.location().search().ok())
        .is_some_and(|q| q.contains("lint-worker=off"))
}

thread_local! {
    static WORKER_STARTED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

pub(crate) fn on_change(ctx: Ctx, editor: &Editor) {
    if editor.model().value_length() <= SYNC_LINT_BYTES {
        lint_now(ctx, editor);
        return;
    }
    // Large documents: lint in the worker (started on first need, so small
    // documents never pay for it); the main thread only sends the text.
    // `?lint-worker=off` keeps every lint on the main thread (to compare, in benchmarks).
    if !WORKER_STARTED.with(|s| s.replace(true)) && !worker_disabled() {
        crate::lint_worker::start(Box::new(move |_text, json, ms, latest| {
            apply_worker_result(ctx, &json, ms, latest)
        }));
    }
    if WORKER_STARTED.with(|s| s.get()) && !worker_disabled() && crate::lint_worker::ready() {
        let text = editor.value();
        if !ctx.preview {
            crate::documents::changed(&text);
        }
        lint::linted_elsewhere(text.clone());
        crate::lint_worker::lint(text);
        return;
    }
    if LINT_PENDING.with(|p| p.replace(true)) {
        return;
    }
    let editor = editor.clone();
    let run = wasm_bindgen::closure::Closure::once_into_js(move || {
        LINT_PENDING.with(|p| p.set(false));
        lint_now(ctx, &editor);
    });
    if let Some(w) = web_sys::window() {
        let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(run.unchecked_ref(), 0);
    }
}
