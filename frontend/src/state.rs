//! Page state, below every view: the page's signals ([`Ctx`], provided as
//! context), how the page was opened ([`Route`]), the Monaco editor handle (a JS
//! object, not `Send`, so a thread-local) and local storage. Views import this
//! module; it imports no view.

use std::cell::RefCell;

use leptos::prelude::*;
use wasm_bindgen::JsValue;

use crate::lint::{self, Counts, GraphData, Problem};
use crate::monaco::{Editor, MonacoRange};

/// How the page was opened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Route {
    /// `?view=preview`: read-only, no local storage.
    pub preview: bool,
    /// A stored spec (`/s/<id>`, `?s=<id>`, `/deploy?spec=<id>`).
    pub spec_id: Option<String>,
    /// `/deploy?spec=<id>`: open the deploy form at once.
    pub deploy: bool,
    /// `#spec=…`, still encoded ([`crate::codec::open_link`] decodes it).
    pub fragment_link: Option<String>,
}

impl Route {
    pub(crate) fn read() -> Route {
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
            fragment_link: crate::codec::link_payload(&hash).map(str::to_owned),
        }
    }
}

/// Page state shared by the components.
#[derive(Clone, Copy)]
pub(crate) struct Ctx {
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
    /// Bumped on every lint; read it through [`Ctx::lint`] / [`Ctx::parsed`].
    pub lint_seq: RwSignal<u64>,
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

impl Ctx {
    /// The latest lint of the text on screen, as a reactive read: a memo or
    /// effect that calls it re-runs after every lint. (The analysis itself is
    /// kept by [`lint`], built lazily when the worker linted the text.)
    pub(crate) fn lint(&self) -> Option<std::rc::Rc<lint::Snapshot>> {
        self.lint_seq.track();
        lint::current()
    }

    /// Like [`Ctx::lint`], but of the last text that parsed as YAML.
    pub(crate) fn parsed(&self) -> Option<std::rc::Rc<lint::Snapshot>> {
        self.lint_seq.track();
        lint::last_parsed()
    }

    /// Called by live lint after each lint.
    pub(crate) fn note_lint(&self) {
        self.lint_seq.update(|n| *n += 1);
    }
}

/// Dialogs opened from the header or by a shortcut.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum HeaderDialog {
    Documents,
    Examples,
    Shortcuts,
}

thread_local! {
    static EDITOR: RefCell<Option<Editor>> = const { RefCell::new(None) };
}

/// Keep the editor handle once Monaco created it.
pub(crate) fn set_editor(editor: Editor) {
    EDITOR.with(|e| *e.borrow_mut() = Some(editor));
}

/// Run `f` on the editor (`None` before Monaco has loaded).
pub(crate) fn with_editor<R>(f: impl FnOnce(&Editor) -> R) -> Option<R> {
    EDITOR.with(|e| e.borrow().as_ref().map(f))
}

/// The editor text (or the last linted text before the editor exists).
pub(crate) fn editor_text() -> String {
    with_editor(|e| e.value())
        .or_else(|| lint::current().map(|s| s.text.clone()))
        .unwrap_or_default()
}

/// Scroll the editor to a service's name and select it.
pub(crate) fn reveal_service(name: &str) {
    if let Some(range) = lint::service_range(name) {
        with_editor(|e| e.reveal(range));
    }
}

pub(crate) fn reveal(range: MonacoRange) {
    with_editor(|e| e.reveal(range));
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

pub(crate) fn storage_get(key: &str) -> Option<String> {
    storage()?.get_item(key).ok()?
}

pub(crate) fn storage_set(key: &str, value: &str) {
    storage_try_set(key, value);
}

/// `false` when the value could not be stored (quota exceeded, storage disabled).
pub(crate) fn storage_try_set(key: &str, value: &str) -> bool {
    storage().is_some_and(|s| s.set_item(key, value).is_ok())
}

pub(crate) fn storage_remove(key: &str) {
    if let Some(s) = storage() {
        let _ = s.remove_item(key);
    }
}

pub(crate) fn now() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map(|p| p.now())
        .unwrap_or(0.0)
}

/// A `performance.mark` (the ready path's steps, for the benchmark's breakdown).
pub(crate) fn mark(name: &str) {
    if let Some(p) = web_sys::window().and_then(|w| w.performance()) {
        let _ = p.mark(name);
    }
}

/// Expose figures for tests and benchmarks on `window.__specstudio`.
pub(crate) fn publish(key: &str, value: JsValue) {
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

/// Replace the address bar's URL without a navigation.
pub(crate) fn set_url(url: &str) {
    if let Some(h) = web_sys::window().and_then(|w| w.history().ok()) {
        let _ = h.replace_state_with_url(&JsValue::NULL, "", Some(url));
    }
}

/// This page's origin (`http://127.0.0.1:8080`), for links it builds.
pub(crate) fn origin() -> String {
    web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default()
}
