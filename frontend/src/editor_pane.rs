//! The editor pane: Monaco created on its div once the AMD loader is done, the
//! document the page opens with (link, stored spec or the last document), the
//! theme and vim mode, the providers and live lint.

use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::live_lint;
use crate::monaco;
use crate::state::{mark, now, publish, set_editor, storage_get, Ctx, Route};

/// The text the page opens with, and (outside the preview) the local
/// document it belongs to: a link, a stored spec or the last document each
/// open their own document, and one already edited here comes back as it was.
async fn initial_document(route: &Route, ctx: Ctx) -> (String, Option<(String, String)>) {
    use crate::docs;
    use crate::documents;
    let hash = web_sys::window()
        .and_then(|w| w.location().hash().ok())
        .unwrap_or_default();
    let link = match &route.fragment_link {
        Some(payload) => crate::codec::open_link(payload.clone()).await,
        None => None,
    };
    if let Some(text) = link {
        let id = docs::link_doc_id(&hash);
        let name = documents::name_of(&id).unwrap_or_else(|| format!("Shared link {}", &id[5..9]));
        let text = documents::saved_text(&id)
            .filter(|_| !route.preview)
            .unwrap_or(text);
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
        match crate::api::load_spec(spec_id.clone()).await {
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
        .unwrap_or_else(|| crate::examples::SEED.to_owned());
    (text, Some((id, name)))
}

/// A share link pasted into an open tab (`hashchange`) opens as its document.
fn follow_hash_changes(ctx: Ctx) {
    let on_hash = wasm_bindgen::closure::Closure::<dyn FnMut()>::new(move || {
        let hash = web_sys::window()
            .and_then(|w| w.location().hash().ok())
            .unwrap_or_default();
        let Some(payload) = crate::codec::link_payload(&hash).map(str::to_owned) else {
            return;
        };
        let id = crate::docs::link_doc_id(&hash);
        if ctx.doc.get_untracked().0 == id {
            return;
        }
        leptos::task::spawn_local(async move {
            let Some(text) = crate::codec::open_link(payload).await else {
                return;
            };
            let name = crate::documents::name_of(&id)
                .unwrap_or_else(|| format!("Shared link {}", &id[5..9]));
            let text = crate::documents::saved_text(&id).unwrap_or(text);
            crate::documents::open_document(ctx, &id, &name, &text, false);
        });
    });
    if let Some(w) = web_sys::window() {
        let _ = w.add_event_listener_with_callback("hashchange", on_hash.as_ref().unchecked_ref());
    }
    on_hash.forget();
}

#[allow(unreachable_pub)] // leptos's #[component] expands to `pub` items
#[component]
pub(crate) fn EditorPane() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let host = NodeRef::<leptos::html::Div>::new();
    Effect::new(move |_| {
        let Some(div) = host.get() else { return };
        mark("specstudio:mounted");
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
            mark("specstudio:monaco");
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
            set_editor(editor.clone());
            mark("specstudio:editor");
            crate::menu::apply_theme(crate::menu::dark_wanted());
            if storage_get(crate::menu::VIM_KEY).as_deref() == Some("on") && !ctx.preview {
                crate::menu::set_vim_mode(true);
            }
            crate::providers::register();
            let handle = editor.clone();
            editor.on_change(move || live_lint::on_change(ctx, &handle));
            live_lint::first_lint(ctx, &editor);
            ctx.ready.set(true);
            publish("ready", JsValue::TRUE);
            publish("readyMs", JsValue::from_f64(now()));
            mark("specstudio:ready");
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
