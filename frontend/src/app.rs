//! The page's layout: header (examples, documents, menu, share, deploy), the
//! editor | side panel (graph, problems), phone tabs, status bar and the
//! page-wide keys. State lives in [`crate::state`].

use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::deploy::DeployPanel;
use crate::docs_view::{EditACopy, HeaderDialogs};
use crate::editor_pane::EditorPane;
use crate::graph_view::GraphView;
use crate::lint::{Counts, GraphData};
use crate::menu::EditorMenu;
use crate::problems::ProblemsList;
use crate::share::ShareButton;
use crate::state::{with_editor, Ctx, HeaderDialog, Route};

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
            <span class="lint-ms" data-testid="lint-ms">{move || format!("lint {} ms", crate::graph_view::Fixed(ctx.lint_ms.get(), 1))}</span>
            <span class="ready" data-testid="editor-ready" data-ready=move || ctx.ready.get().to_string()>
                {move || if ctx.ready.get() { "ready" } else { "loading editor…" }}
            </span>
        </footer>
    }
}

#[allow(unreachable_pub)] // leptos's #[component] expands to `pub` items
#[component]
pub(crate) fn App() -> impl IntoView {
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
        lint_seq: RwSignal::new(0),
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
