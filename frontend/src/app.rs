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
use crate::graph_view::GraphView;
use crate::lint::{self, Counts, GraphData, Problem};
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
];
const STORAGE_KEY: &str = "specstudio.spec";

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
    if let Some(s) = storage() {
        let _ = s.set_item(key, value);
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
    let ms = now() - started;
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
    if !ctx.preview {
        storage_set(STORAGE_KEY, &text);
    }
    // Test/benchmark hook: `window.__specstudio.afterLint()` runs after each lint.
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

fn on_change(ctx: Ctx, editor: &Editor) {
    if editor.model().value_length() <= SYNC_LINT_BYTES {
        lint_now(ctx, editor);
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

async fn initial_text(route: &Route, ctx: Ctx) -> String {
    if let Some(text) = &route.fragment_spec {
        return text.clone();
    }
    if let Some(id) = &route.spec_id {
        match crate::api::load_spec(id).await {
            Ok(text) => return text,
            Err(e) => ctx
                .notice
                .set(Some(format!("Could not load stored spec `{id}`: {e}"))),
        }
    }
    if !route.preview {
        if let Some(saved) = storage_get(STORAGE_KEY).filter(|s| !s.trim().is_empty()) {
            return saved;
        }
    }
    SEED.to_owned()
}

fn register_providers() {
    monaco::on_hover(Box::new(|line, column| {
        let snapshot = lint::current()?;
        let (markdown, range) =
            crate::language::hover(&snapshot.text, &snapshot.analysis, line, column)?;
        Some((markdown, range.map(MonacoRange::from_range)))
    }));
    monaco::on_completion(
        &["$", ".", " ", ":"],
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
                ctx.notice
                    .set(Some("Monaco did not load (dist/vs missing?)".into()));
                return;
            };
            if JsFuture::from(ready).await.is_err() {
                ctx.notice.set(Some("Monaco failed to load".into()));
                return;
            }
            let text = initial_text(&route, ctx).await;
            let element: &web_sys::HtmlElement = &div;
            let editor = monaco::create(element, &text, ctx.preview);
            EDITOR.with(|e| *e.borrow_mut() = Some(editor.clone()));
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
    view! { <div class="editor" data-testid="editor" node_ref=host></div> }
}

#[component]
fn ProblemsList() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    view! {
        <ul class="problems" data-testid="problems">
            {move || {
                let problems = ctx.problems.get();
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
                                on:click=move |_| reveal(range)
                            >
                                <span class="sev"></span>
                                <span class="code">{p.code}</span>
                                <span class="msg">{p.message}</span>
                                {p.fix.map(|f| view! { <span class="fixable" title=f>"fix"</span> })}
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
fn ExamplesMenu() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let on_change = move |ev: leptos::ev::Event| {
        let value = event_target_value(&ev);
        if let Some((_, _, text)) = EXAMPLES.iter().find(|(id, _, _)| *id == value) {
            with_editor(|e| e.set_value(text));
            ctx.spec_id.set(None);
        }
        event_target::<web_sys::HtmlSelectElement>(&ev).set_value("");
    };
    view! {
        <select class="examples" data-testid="examples" on:change=on_change title="Load an example">
            <option value="">"Examples…"</option>
            {EXAMPLES.iter().map(|(id, label, _)| view! { <option value=*id>{*label}</option> }).collect_view()}
        </select>
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
    };
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
        <div class="app" class:preview=ctx.preview data-testid="app">
            <header class="top">
                <span class="brand">"specstudio"</span>
                {if ctx.preview {
                    view! {
                        <span class="mode">"Preview (read-only)"</span>
                        <a class="button" href=editor_link>"Open in editor"</a>
                    }.into_any()
                } else {
                    view! { <ExamplesMenu/> }.into_any()
                }}
                <span class="spacer"></span>
                <ShareButton/>
                <button class="primary" data-testid="deploy-button" on:click=move |_| ctx.deploy_open.update(|o| *o = !*o)>
                    "Deploy"
                </button>
            </header>
            {move || ctx.notice.get().map(|n| view! {
                <div class="notice" data-testid="notice">{n}<button on:click=move |_| ctx.notice.set(None)>"×"</button></div>
            })}
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
        </div>
    }
}
