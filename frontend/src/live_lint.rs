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
    crate::lint_worker::page_linted();
    if !ctx.preview {
        crate::documents::changed(&text);
    }
    show(ctx, out, now() - started, true);
}

/// A lint answered by the worker (`latest`: of the text on screen now); the
/// glue has set the markers already. `view` is `None` when the Problems,
/// counts and graph are as the last answer left them.
fn apply_worker_result(ctx: Ctx, view: Option<String>, ms: f64, latest: bool) {
    match view.as_deref().and_then(lint::Output::from_view_json) {
        Some(out) => show(ctx, out, ms, latest),
        None => noted(ctx, ms, latest),
    }
}

/// Put one lint's output on the page.
fn show(ctx: Ctx, out: lint::Output, ms: f64, latest: bool) {
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
    noted(ctx, ms, latest);
}

/// The bookkeeping of every lint: timing, the lint counter, the first-lint
/// flag and the `afterLint` hook.
fn noted(ctx: Ctx, ms: f64, latest: bool) {
    publish("lastLintMs", JsValue::from_f64(ms));
    ctx.lint_ms.set(ms);
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
/// ones in the lint worker (or, where it cannot run, on the next task, so a
/// burst of keystrokes costs one lint).
const SYNC_LINT_BYTES: f64 = 64.0 * 1024.0;

/// How long typing in a large document pauses before its text is handed to
/// the local documents store (which adds its own short delay); leaving the
/// page saves at once.
const BIG_SAVE_DELAY_MS: i32 = 300;

thread_local! {
    static LINT_PENDING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    static SAVE_TIMER: std::cell::Cell<Option<i32>> = const { std::cell::Cell::new(None) };
}

fn worker_disabled() -> bool {
    web_sys::window()
        .and_then(|w| w.location().search().ok())
        .is_some_and(|q| q.contains("lint-worker=off"))
}

/// Start the lint worker for this editor (once; not with `?lint-worker=off`,
/// which keeps every lint on the main thread to compare in benchmarks).
fn start_worker(ctx: Ctx, editor: &Editor) {
    if worker_disabled() {
        return;
    }
    let handle = editor.clone();
    crate::lint_worker::start(
        &editor.model(),
        Box::new(move |view, ms, latest| apply_worker_result(ctx, view, ms, latest)),
        Box::new(move || lint_soon(ctx, &handle)),
    );
}

/// The first lint of the text the page opened with: a large one goes to the
/// worker at once (the page shows "Checking…" until it answers) instead of
/// holding the editor back for a main-thread lint.
pub(crate) fn first_lint(ctx: Ctx, editor: &Editor) {
    if editor.model().value_length() <= SYNC_LINT_BYTES || worker_disabled() {
        lint_now(ctx, editor);
        return;
    }
    start_worker(ctx, editor);
    on_change(ctx, editor);
}

pub(crate) fn on_change(ctx: Ctx, editor: &Editor) {
    if editor.model().value_length() <= SYNC_LINT_BYTES {
        lint_now(ctx, editor);
        return;
    }
    // Large documents: lint in the worker (started on first need, so small
    // documents never pay for it). The keystroke itself costs a request and a
    // timer: the text is neither copied nor converted here.
    start_worker(ctx, editor);
    if !ctx.preview {
        save_later(editor);
    }
    if crate::lint_worker::usable() {
        lint::linted_elsewhere(|| with_editor(|e| e.value()));
        crate::lint_worker::lint();
        return;
    }
    lint_soon(ctx, editor);
}

/// Lint on the main thread on the next task (a burst of changes costs one lint).
fn lint_soon(ctx: Ctx, editor: &Editor) {
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

/// Hand a large document's text to the documents store once typing pauses
/// (reading 500 KB out of Monaco on every key is most of a keystroke's cost),
/// and at once when the page is hidden or left.
fn save_later(editor: &Editor) {
    let Some(window) = web_sys::window() else {
        return;
    };
    if let Some(id) = SAVE_TIMER.with(|t| t.take()) {
        window.clear_timeout_with_handle(id);
    } else {
        save_when_leaving();
    }
    let editor = editor.clone();
    let run = wasm_bindgen::closure::Closure::once_into_js(move || {
        SAVE_TIMER.with(|t| t.set(None));
        crate::documents::changed(&editor.value());
    });
    let id = window
        .set_timeout_with_callback_and_timeout_and_arguments_0(
            run.unchecked_ref(),
            BIG_SAVE_DELAY_MS,
        )
        .ok();
    SAVE_TIMER.with(|t| t.set(id));
}

/// On `pagehide` / hidden: a save still waiting on [`save_later`]'s timer
/// happens now (registered once).
fn save_when_leaving() {
    thread_local! {
        static REGISTERED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }
    if REGISTERED.with(|r| r.replace(true)) {
        return;
    }
    let Some(window) = web_sys::window() else {
        return;
    };
    // Like the documents store, on every visibility change (shown again: an
    // early save, harmless).
    let flush = wasm_bindgen::closure::Closure::<dyn FnMut()>::new(move || {
        let Some(id) = SAVE_TIMER.with(|t| t.take()) else {
            return;
        };
        if let Some(w) = web_sys::window() {
            w.clear_timeout_with_handle(id);
        }
        if let Some(text) = with_editor(|e| e.value()) {
            crate::documents::changed(&text);
            crate::documents::flush();
        }
    });
    let _ =
        window.add_event_listener_with_callback("visibilitychange", flush.as_ref().unchecked_ref());
    let _ = window.add_event_listener_with_callback("pagehide", flush.as_ref().unchecked_ref());
    flush.forget();
}
