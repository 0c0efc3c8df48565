//! The page: header (examples, share, deploy), editor | side panel (graph,
//! problems), status bar. State lives in [`Ctx`] (signals, provided as
//! context); the Monaco editor handle lives in a thread-local (it is a JS
//! object, not `Send`).

use std::cell::RefCell;

use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::deploy::DeployPanel;
use crate::docs_view::{EditACopy, HeaderDialogs};
use crate::graph_view::GraphView;
use crate::lint::{self, Counts, GraphData, Problem};
use crate::menu::EditorMenu;
use crate::monaco::{self, CompletionItem, Editor, MonacoRange};
use crate::share::ShareButton;

pub const SEED: &str = include_str!("../../examples/serverless-mysql-master-replica.yaml");
pub const EXAMPLES: &[(&str, &str, &str)] = &[
    (
        "serverless",
        "Serverless MySQL master + replicas (seed)",
        SEED,
    ),
    (
        "hello-world",
        "Hello world MySQL",
        include_str!("../../examples/hello-world-mysql.yaml"),
    ),
    (
        "autoscaling",
        "Autoscaling read replicas",
        include_str!("../examples/autoscaling-mysql.yaml"),
    ),
    (
        "multi-zone",
        "Multi-zone master + replicas",
        include_str!("../examples/multi-zone-mysql.yaml"),
    ),
];

/// How the page was opened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    /// `?view=preview`: read-only, no local storage.
    pub preview: bool,
    /// A stored spec (`/s/<id>`, `?s=<id>`, `/deploy?spec=<id>`).
    pub spec_id: Option<String>,
    /// `/deploy?spec=<id>`: open the deploy form at once.
    pub deploy: bool,
    /// `#spec=…`
    pub fragment_spec: Option<String>,
}

impl Route {
    fn read() -> Route {
        let location = web_sys::window().expect("window").location();
        let path = location.pathname().unwrap_or_default();
        let query =
            web_sys::UrlSearchParams::new_with_str(&location.search().unwrap_or_default()).ok();
        let param = |k: &str| {
            query
                .as_ref()
                .and_then(|q| q.get(k))
                .filter(|v| !v.is_empty())
        };
        let hash = location.hash().unwrap_or_default();
        let from_path = path
            .strip_prefix("/s/")
            .map(|id| id.trim_end_matches('/').to_owned())
            .filter(|id| !id.is_empty());
        let deploy = path.trim_end_matches('/') == "/deploy" || param("deploy").is_some();
        Route {
            preview: param("view").as_deref() == Some("preview"),
            spec_id: from_path.or_else(|| param("s")).or_else(|| {
                if deploy {
                    param("spec")
                } else {
                    None
                }
            }),
            deploy,
            fragment_spec: crate::codec::from_fragment(&hash),
        }
    }
}

/// Page state shared by the components.
#[derive(Clone, Copy)]
pub struct Ctx {
    pub problems: RwSignal<Vec<Problem>>,
    pub counts: RwSignal<Counts>,
    pub lint_ms: RwSignal<f64>,
    pub graph: RwSignal<GraphData>,
    /// The graph is of an earlier text (the current one has a YAML error).
    pub graph_stale: RwSignal<bool>,
    pub ready: RwSignal<bool>,
    pub deploy_open: RwSignal<bool>,
    pub notice: RwSignal<Option<String>>,
    pub spec_id: RwSignal<Option<String>>,
    /// Bumped on every lint (the deploy form re-reads the spec).
    pub revision: RwSignal<u64>,
    pub preview: bool,
    /// The open local document: (id, name).
    pub doc: RwSignal<(String, String)>,
    /// Which dialog of the header is open.
    pub dialog: RwSignal<Option<HeaderDialog>>,
    /// The first lint has run (nothing claims "No problems" before it).
    pub linted: RwSignal<bool>,
    /// The deploy form's values (kept while the drawer closes; the share
    /// dialog builds deploy links from them).
    pub form_values: RwSignal<std::collections::BTreeMap<String, String>>,
    /// Which pane the phone layout shows: "editor", "graph" or "problems".
    pub tab: RwSignal<&'static str>,
}

/// Dialogs opened from the header or by a shortcut.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeaderDialog {
    Documents,
    Examples,
    Shortcuts,
}

thread_local! {
    static EDITOR: RefCell<Option<Editor>> = const { RefCell::new(None) };
}

pub fn with_editor<R>(f: impl FnOnce(&Editor) -> R) -> Option<R> {
    EDITOR.with(|e| e.borrow().as_ref().map(f))
}

/// The editor text (or the last linted text before the editor exists).
pub fn editor_text() -> String {
    with_editor(|e| e.value())
        .or_else(|| lint::current().map(|s| s.text.clone()))
        .unwrap_or_default()
}

/// Scroll the editor to a service's name and select it.
pub fn reveal_service(name: &str) {
    if let Some(range) = lint::service_range(name) {
        with_editor(|e| e.reveal(range));
    }
}

pub fn reveal(range: MonacoRange) {
    with_editor(|e| e.reveal(range));
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

pub fn storage_get(key: &str) -> Option<String> {
    storage()?.get_item(key).ok()?
}

pub fn storage_set(key: &str, value: &str) {
    storage_try_set(key, value);
}

/// `false` when the value could not be stored (quota exceeded, storage disabled).
pub fn storage_try_set(key: &str, value: &str) -> bool {
    storage().is_some_and(|s| s.set_item(key, value).is_ok())
}

pub fn storage_remove(key: &str) {
    if let Some(s) = storage() {
        let _ = s.remove_item(key);
    }
}

fn now() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map(|p| p.now())
        .unwrap_or(0.0)
}

/// Expose figures for tests and benchmarks on `window.__specstudio`.
fn publish(key: &str, value: JsValue) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let name = JsValue::from_str("__specstudio");
    let object = match js_sys::Reflect::get(&window, &name) {
        Ok(o) if o.is_object() => o,
        _ => {
            let o: JsValue = js_sys::Object::new().into();
            let _ = js_sys::Reflect::set(&window, &name, &o);
            o
        }
    };
    let _ = js_sys::Reflect::set(&object, &JsValue::from_str(key), &value);
}

/// Lint the editor's text: markers, Problems, counts, graph, timing.
fn lint_now(ctx: Ctx, editor: &Editor) {
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
    ctx.revision.update(|r| *r += 1);
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

fn on_change(ctx: Ctx, editor: &Editor) {
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

/// The text the page opens with, and (outside the preview) the local
/// document it belongs to: a link, a stored spec or the last document each
/// open their own document, and one already edited here comes back as it was.
async fn initial_document(route: &Route, ctx: Ctx) -> (String, Option<(String, String)>) {
    use crate::docs;
    use crate::documents;
    let hash = web_sys::window()
        .and_then(|w| w.location().hash().ok())
        .unwrap_or_default();
    if let Some(text) = &route.fragment_spec {
        let id = docs::link_doc_id(&hash);
        let name = documents::name_of(&id).unwrap_or_else(|| format!("Shared link {}", &id[5..9]));
        let text = documents::saved_text(&id)
            .filter(|_| !route.preview)
            .unwrap_or_else(|| text.clone());
        return (text, Some((id, name)));
    }
    if let Some(spec_id) = &route.spec_id {
        let id = docs::stored_doc_id(spec_id);
        if !route.preview {
            if let Some(saved) = documents::saved_text(&id) {
                let name =
                    documents::name_of(&id).unwrap_or_else(|| format!("Stored spec {spec_id}"));
                return (saved, Some((id, name)));
            }
        }
        match crate::api::load_spec(spec_id).await {
            Ok(text) => return (text, Some((id, format!("Stored spec {spec_id}")))),
            Err(e) => ctx
                .notice
                .set(Some(format!("Could not load stored spec `{spec_id}`: {e}"))),
        }
    }
    let id = documents::last_current();
    let name = documents::name_of(&id).unwrap_or_else(|| "My draft".to_owned());
    let text = documents::saved_text(&id)
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| SEED.to_owned());
    (text, Some((id, name)))
}

/// Open a local document in the editor: the current text is kept as a
/// version of its own document first. `undoable` replaces the text as one
/// undo step (choosing an example); otherwise the editor starts afresh.
pub fn open_document(ctx: Ctx, id: &str, name: &str, text: &str, undoable: bool) {
    if ctx.preview {
        return;
    }
    crate::documents::checkpoint(&editor_text());
    crate::documents::open(id, name, text);
    ctx.doc.set((id.to_owned(), name.to_owned()));
    // A document opened here deploys by its text, not by a stored id.
    ctx.spec_id.set(None);
    with_editor(|e| {
        if undoable {
            e.replace_all(text);
        } else {
            e.set_value(text);
        }
    });
    if !id.starts_with("link-") && !id.starts_with("stored-") {
        set_url("/");
    }
}

/// Replace the address bar's URL without a navigation.
pub fn set_url(url: &str) {
    if let Some(h) = web_sys::window().and_then(|w| w.history().ok()) {
        let _ = h.replace_state_with_url(&JsValue::NULL, "", Some(url));
    }
}

/// A share link pasted into an open tab (`hashchange`) opens as its document.
fn follow_hash_changes(ctx: Ctx) {
    let on_hash = wasm_bindgen::closure::Closure::<dyn FnMut()>::new(move || {
        let hash = web_sys::window()
            .and_then(|w| w.location().hash().ok())
            .unwrap_or_default();
        let Some(text) = crate::codec::from_fragment(&hash) else {
            return;
        };
        let id = crate::docs::link_doc_id(&hash);
        if ctx.doc.get_untracked().0 == id {
            return;
        }
        let name =
            crate::documents::name_of(&id).unwrap_or_else(|| format!("Shared link {}", &id[5..9]));
        let text = crate::documents::saved_text(&id).unwrap_or(text);
        open_document(ctx, &id, &name, &text, false);
    });
    if let Some(w) = web_sys::window() {
        let _ = w.add_event_listener_with_callback("hashchange", on_hash.as_ref().unchecked_ref());
    }
    on_hash.forget();
}

fn register_providers() {
    monaco::on_hover(Box::new(|line, column| {
        let snapshot = lint::current()?;
        let (markdown, range) =
            crate::language::hover(&snapshot.text, &snapshot.analysis, line, column)?;
        Some((markdown, range.map(MonacoRange::from_range)))
    }));
    monaco::on_completion(
        // Never on whitespace: a space or Enter while indenting must not open
        // (or accept) a suggestion. Keys open on a word prefix (quickSuggestions),
        // `$` and `.` open references, Ctrl+Space asks.
        &["$", "."],
        Box::new(|line, column| {
            let Some(text) = with_editor(|e| e.value()) else {
                return Vec::new();
            };
            let Some(snapshot) = lint::last_parsed() else {
                return Vec::new();
            };
            crate::language::complete(&text, &snapshot.analysis, line, column)
                .into_iter()
                .enumerate()
                .map(|(i, c)| CompletionItem {
                    label: c.label,
                    kind: match c.kind {
                        // monaco.languages.CompletionItemKind
                        crate::language::ItemKind::Property => 9,
                        crate::language::ItemKind::Value => 12,
                        crate::language::ItemKind::Reference => 17,
                        crate::language::ItemKind::Module => 8,
                    },
                    insert_text: c.insert,
                    detail: c.detail,
                    documentation: c.doc,
                    range: MonacoRange::from_range(c.range),
                    sort_text: Some(format!("{i:04}")),
                })
                .collect()
        }),
    );
    monaco::on_code_action(Box::new(lint::fixes_for));
    crate::language::register_monaco_providers();
}

#[component]
fn EditorPane() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let host = NodeRef::<leptos::html::Div>::new();
    Effect::new(move |_| {
        let Some(div) = host.get() else { return };
        spawn_local(async move {
            let route = Route::read();
            let Some(ready) = monaco::ready() else {
                ctx.notice.set(Some(
                    "Monaco did not load (dist/vs-<version> missing?)".into(),
                ));
                return;
            };
            if JsFuture::from(ready).await.is_err() {
                ctx.notice.set(Some("Monaco failed to load".into()));
                return;
            }
            let (text, doc) = initial_document(&route, ctx).await;
            if let (Some((id, name)), false) = (doc, ctx.preview) {
                crate::documents::open(&id, &name, &text);
                ctx.doc.set((id, name));
                crate::documents::save_when_hidden();
                crate::documents::on_storage_full(Box::new(move || {
                    ctx.notice.set(Some(
                        "This browser's local storage is full: older versions of other documents were dropped to keep this one. Download the YAML (Menu) to be safe.".into(),
                    ))
                }));
                follow_hash_changes(ctx);
            }
            let element: &web_sys::HtmlElement = &div;
            let editor = monaco::create(element, &text, ctx.preview);
            EDITOR.with(|e| *e.borrow_mut() = Some(editor.clone()));
            crate::menu::apply_theme(crate::menu::dark_wanted());
            if storage_get(crate::menu::VIM_KEY).as_deref() == Some("on") && !ctx.preview {
                crate::menu::set_vim_mode(true);
            }
            register_providers();
            let handle = editor.clone();
            editor.on_change(move || on_change(ctx, &handle));
            lint_now(ctx, &editor);
            ctx.ready.set(true);
            publish("ready", JsValue::TRUE);
            publish("readyMs", JsValue::from_f64(now()));
            if route.deploy {
                ctx.deploy_open.set(true);
            }
        });
    });
    view! {
        <div class="editor-wrap">
            <div class="editor" data-testid="editor" node_ref=host></div>
            <div class="vim-status" data-testid="vim-status" aria-live="polite"></div>
            <p class="editor-hint" data-testid="editor-hint">"Tab indents in the editor; press "<kbd>"Ctrl+M"</kbd>" to make Tab move focus out (again to switch back). "<kbd>"?"</kbd>" lists shortcuts."</p>
        </div>
    }
}

#[component]
fn ProblemsList() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    view! {
        <ul class="problems" data-testid="problems">
            {move || {
                let problems = ctx.problems.get();
                if !ctx.linted.get() {
                    return view! { <li class="empty">"Checking…"</li> }.into_any();
                }
                if problems.is_empty() {
                    return view! { <li class="empty">"No problems."</li> }.into_any();
                }
                let mut problems = problems;
                problems.sort_by_key(|p| (p.severity, p.range.start_line_number, p.range.start_column));
                problems
                    .into_iter()
                    .take(500)
                    .map(|p| {
                        let range = p.range;
                        let severity = p.severity.as_str();
                        view! {
                            <li
                                data-testid="problem"
                                class=format!("problem {severity}")
                                data-line=range.start_line_number
                                data-code=p.code
                                data-severity=severity
                                title=p.help.clone().unwrap_or_default()
                                tabindex="0"
                                on:click=move |_| reveal(range)
                                on:keydown=move |ev: web_sys::KeyboardEvent| problem_key(&ev, range)
                            >
                                <span class="sev"><span class="sr-only">{severity}</span></span>
                                <span class="code">{p.code}</span>
                                <span class="msg">{p.message}</span>
                                {p.fix.map(|f| {
                                    let code = p.code;
                                    view! {
                                        <button class="fixable" data-testid="fix-chip" title=f.clone() aria-label=format!("Fix: {f}")
                                            on:click=move |ev| { ev.stop_propagation(); apply_fix(range, code); }>"fix"</button>
                                    }
                                })}
                                <span class="loc">{format!("{}:{}", range.start_line_number, range.start_column)}</span>
                            </li>
                        }
                    })
                    .collect_view()
                    .into_any()
            }}
        </ul>
    }
}

/// Apply the quick fix of the problem at `range` with `code` (one undo step).
fn apply_fix(range: MonacoRange, code: &str) {
    let fix = lint::fixes_for(range)
        .into_iter()
        .find(|f| f.marker.code == code && f.marker.range == range);
    if let Some(fix) = fix {
        with_editor(|e| e.apply_edits(&fix.edits));
    }
}

/// Problems list keys: Enter reveals, ArrowUp/ArrowDown move between rows.
fn problem_key(ev: &web_sys::KeyboardEvent, range: MonacoRange) {
    let row = ev
        .current_target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok());
    match ev.key().as_str() {
        "Enter" => {
            ev.prevent_default();
            reveal(range);
        }
        "ArrowDown" | "ArrowUp" => {
            ev.prevent_default();
            let next = row.and_then(|r| {
                if ev.key() == "ArrowDown" {
                    r.next_element_sibling()
                } else {
                    r.previous_element_sibling()
                }
            });
            if let Some(n) = next.and_then(|n| n.dyn_into::<web_sys::HtmlElement>().ok()) {
                let _ = n.focus();
            }
        }
        _ => {}
    }
}

/// Editor / Graph / Problems as tabs (shown on narrow screens only, by CSS).
#[component]
fn PaneTabs() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let tab = move |id: &'static str, label: &'static str| {
        view! {
            <button role="tab" data-testid=format!("tab-{id}") aria-selected=move || (ctx.tab.get() == id).to_string()
                on:click=move |_| {
                    ctx.tab.set(id);
                    if id == "editor" {
                        with_editor(|e| e.layout());
                    }
                }>
                {label}
                {(id == "problems").then(|| view! { <span class="count">{move || { let c = ctx.counts.get(); format!(" {}", c.errors + c.warnings) }}</span> })}
            </button>
        }
    };
    view! {
        <nav class="pane-tabs" role="tablist" aria-label="Panes">
            {tab("editor", "Editor")}
            {tab("graph", "Graph")}
            {tab("problems", "Problems")}
        </nav>
    }
}

#[component]
fn StatusBar() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    view! {
        <footer class="status" data-testid="status">
            <span class="errors" class:some=move || ctx.counts.get().errors != 0>
                <b data-testid="error-count">{move || ctx.counts.get().errors}</b>" errors"
            </span>
            <span class="warnings" class:some=move || ctx.counts.get().warnings != 0>
                <b data-testid="warning-count">{move || ctx.counts.get().warnings}</b>" warnings"
            </span>
            <span class="infos">{move || ctx.counts.get().infos}" infos"</span>
            <span class="lint-ms" data-testid="lint-ms">{move || format!("lint {:.1} ms", ctx.lint_ms.get())}</span>
            <span class="ready" data-testid="editor-ready" data-ready=move || ctx.ready.get().to_string()>
                {move || if ctx.ready.get() { "ready" } else { "loading editor…" }}
            </span>
        </footer>
    }
}

#[component]
pub fn App() -> impl IntoView {
    let route = Route::read();
    let ctx = Ctx {
        problems: RwSignal::new(Vec::new()),
        counts: RwSignal::new(Counts::default()),
        lint_ms: RwSignal::new(0.0),
        graph: RwSignal::new(GraphData::default()),
        graph_stale: RwSignal::new(false),
        ready: RwSignal::new(false),
        deploy_open: RwSignal::new(false),
        notice: RwSignal::new(None),
        spec_id: RwSignal::new(route.spec_id.clone()),
        revision: RwSignal::new(0),
        preview: route.preview,
        doc: RwSignal::new((String::new(), String::new())),
        dialog: RwSignal::new(None),
        linted: RwSignal::new(false),
        form_values: RwSignal::new(Default::default()),
        tab: RwSignal::new("editor"),
    };
    global_keys(ctx);
    provide_context(ctx);
    let graph = ctx.graph.read_only();
    let editor_link = move || match ctx.spec_id.get() {
        Some(id) => format!("/s/{}", js_sys::encode_uri_component(&id)),
        None => {
            let hash = web_sys::window()
                .and_then(|w| w.location().hash().ok())
                .unwrap_or_default();
            format!("/{hash}")
        }
    };
    view! {
        <div class=move || format!("app tab-{}", ctx.tab.get()) class:preview=ctx.preview data-testid="app">
            <header class="top">
                <span class="brand">"specstudio"</span>
                {if ctx.preview {
                    view! {
                        <span class="mode">"Preview (read-only)"</span>
                        <a class="button" href=editor_link>"Open in editor"</a>
                        <EditACopy/>
                    }.into_any()
                } else {
                    view! {
                        <button data-testid="examples-button" on:click=move |_| ctx.dialog.set(Some(HeaderDialog::Examples))>"Examples"</button>
                        <button data-testid="documents-button" title="Your documents and their history"
                            on:click=move |_| ctx.dialog.set(Some(HeaderDialog::Documents))>
                            <span class="doc-name" data-testid="doc-name">{move || ctx.doc.get().1}</span>
                        </button>
                        {move || (!crate::docs::is_own(&ctx.doc.get().0) && !ctx.doc.get().0.is_empty()).then(|| view! { <EditACopy/> })}
                    }.into_any()
                }}
                <span class="spacer"></span>
                <EditorMenu/>
                <ShareButton/>
                <button class="primary" data-testid="deploy-button" on:click=move |_| ctx.deploy_open.update(|o| *o = !*o)>
                    "Deploy"
                </button>
            </header>
            {move || ctx.notice.get().map(|n| view! {
                <div class="notice" data-testid="notice">{n}<button on:click=move |_| ctx.notice.set(None)>"×"</button></div>
            })}
            <PaneTabs/>
            <main class="body">
                <EditorPane/>
                <aside class="side">
                    <section class="panel graph-panel" class:stale=move || ctx.graph_stale.get()>
                        <h2>"Resources"
                            {move || ctx.graph_stale.get().then(|| view! {
                                <span class="stale-note" data-testid="graph-stale">" · last valid spec (fix the YAML error to update)"</span>
                            })}
                        </h2>
                        <GraphView graph=graph/>
                    </section>
                    <section class="panel problems-panel">
                        <h2>"Problems"</h2>
                        <ProblemsList/>
                    </section>
                </aside>
                <DeployPanel/>
            </main>
            <StatusBar/>
            <HeaderDialogs/>
        </div>
    }
}

/// Page-wide keys: `?` opens the shortcuts (outside text fields and the
/// editor), Escape closes the deploy drawer when no dialog has focus.
fn global_keys(ctx: Ctx) {
    let on_key = wasm_bindgen::closure::Closure::<dyn FnMut(web_sys::KeyboardEvent)>::new(
        move |ev: web_sys::KeyboardEvent| {
            let target = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::Element>().ok());
            let typing = target.as_ref().is_some_and(|t| {
                matches!(t.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT")
                    || t.closest(".monaco-editor").ok().flatten().is_some()
            });
            match ev.key().as_str() {
                "?" if !typing && ctx.dialog.get_untracked().is_none() => {
                    ev.prevent_default();
                    ctx.dialog.set(Some(HeaderDialog::Shortcuts));
                }
                "Escape" if ctx.dialog.get_untracked().is_some() => ctx.dialog.set(None),
                "Escape" if ctx.deploy_open.get_untracked() => {
                    let in_editor = target
                        .as_ref()
                        .is_some_and(|t| t.closest(".monaco-editor").ok().flatten().is_some());
                    if !in_editor {
                        ctx.deploy_open.set(false);
                    }
                }
                _ => {}
            }
        },
    );
    if let Some(d) = web_sys::window().and_then(|w| w.document()) {
        let _ = d.add_event_listener_with_callback("keydown", on_key.as_ref().unchecked_ref());
    }
    on_key.forget();
}
