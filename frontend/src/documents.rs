//! Local documents in the browser's local storage (the pure policy is in
//! [`crate::docs`]).
//!
//! Keys: `specstudio.docs` (the index), `specstudio.doc.<id>` (current text,
//! written shortly after every change and when the page is hidden),
//! `specstudio.hist.<id>` (versions), `specstudio.current` (the document a
//! plain `/` reopens). The old single-draft key `specstudio.spec` becomes the
//! `draft` document.

use std::cell::{Cell, RefCell};

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::docs::{self, DocMeta, History, Version};
use crate::state::{
    editor_text, storage_get, storage_remove, storage_set, storage_try_set, with_editor, Ctx,
};
use leptos::prelude::Set;

const INDEX: &str = "specstudio.docs";
const CURRENT: &str = "specstudio.current";
const LEGACY_DRAFT: &str = "specstudio.spec";
/// Changes are written this long after the last one (and at once when the page is hidden).
const SAVE_DELAY_MS: i32 = 250;

struct Open {
    id: String,
    history: History,
}

thread_local! {
    static OPEN: RefCell<Option<Open>> = const { RefCell::new(None) };
    static PENDING: RefCell<Option<String>> = const { RefCell::new(None) };
    static TIMER: Cell<bool> = const { Cell::new(false) };
    static ON_FULL: RefCell<Option<Box<dyn Fn()>>> = const { RefCell::new(None) };
}

/// Called when local storage refused a write (after room was made, or not).
pub(crate) fn on_storage_full(notify: Box<dyn Fn()>) {
    ON_FULL.with(|f| *f.borrow_mut() = Some(notify));
}

/// Store `value`; when the storage is full, drop the histories of the other
/// documents (least recently changed first) until it fits. The text of a
/// document is never dropped.
fn store(key: &str, value: &str, keep: &str) -> bool {
    if storage_try_set(key, value) {
        return true;
    }
    let mut others: Vec<DocMeta> = list().into_iter().filter(|d| d.id != keep).collect();
    others.sort_by(|a, b| a.updated.total_cmp(&b.updated));
    let mut stored = false;
    for doc in others {
        storage_remove(&hist_key(&doc.id));
        if storage_try_set(key, value) {
            stored = true;
            break;
        }
    }
    ON_FULL.with(|f| {
        if let Some(notify) = f.borrow().as_ref() {
            notify();
        }
    });
    stored
}

fn now() -> f64 {
    js_sys::Date::now()
}

fn text_key(id: &str) -> String {
    format!("specstudio.doc.{id}")
}

fn hist_key(id: &str) -> String {
    format!("specstudio.hist.{id}")
}

/// Every document, newest change first.
pub(crate) fn list() -> Vec<DocMeta> {
    let mut docs = docs::index_from_json(&storage_get(INDEX).unwrap_or_default());
    docs.sort_by(|a, b| b.updated.total_cmp(&a.updated));
    docs
}

fn touch(id: &str, name: Option<&str>) {
    let mut all = docs::index_from_json(&storage_get(INDEX).unwrap_or_default());
    match all.iter_mut().find(|d| d.id == id) {
        Some(d) => {
            d.updated = now();
            if let Some(n) = name {
                d.name = n.to_owned();
            }
        }
        None => all.push(DocMeta {
            id: id.to_owned(),
            name: name.unwrap_or(id).to_owned(),
            updated: now(),
        }),
    }
    storage_set(INDEX, &docs::index_to_json(&all));
}

/// The saved text of a document, if it exists.
pub(crate) fn saved_text(id: &str) -> Option<String> {
    storage_get(&text_key(id)).or_else(|| {
        (id == docs::DRAFT)
            .then(|| storage_get(LEGACY_DRAFT))
            .flatten()
    })
}

/// The name a document is listed under.
pub(crate) fn name_of(id: &str) -> Option<String> {
    list().into_iter().find(|d| d.id == id).map(|d| d.name)
}

/// The document `/` reopens.
pub(crate) fn last_current() -> String {
    storage_get(CURRENT)
        .filter(|id| saved_text(id).is_some())
        .unwrap_or_else(|| docs::DRAFT.to_owned())
}

/// Make `id` the open document holding `text` (flushing the previous one).
pub(crate) fn open(id: &str, name: &str, text: &str) {
    flush();
    let mut history = History::from_json(&storage_get(&hist_key(id)).unwrap_or_default());
    history.record(text, now(), true);
    OPEN.with(|o| {
        *o.borrow_mut() = Some(Open {
            id: id.to_owned(),
            history,
        })
    });
    storage_set(CURRENT, id);
    write(id, text, true);
    touch(id, Some(name));
}

pub(crate) fn current_id() -> Option<String> {
    OPEN.with(|o| o.borrow().as_ref().map(|o| o.id.clone()))
}

/// The open document's versions, oldest first.
pub(crate) fn versions() -> Vec<Version> {
    OPEN.with(|o| {
        o.borrow()
            .as_ref()
            .map(|o| o.history.versions.clone())
            .unwrap_or_default()
    })
}

/// Keep `text` as a version of its own now (before it is replaced).
pub(crate) fn checkpoint(text: &str) {
    PENDING.with(|p| p.borrow_mut().take());
    let id = OPEN.with(|o| {
        let mut o = o.borrow_mut();
        let open = o.as_mut()?;
        open.history.record(text, now(), true);
        Some(open.id.clone())
    });
    if let Some(id) = id {
        write(&id, text, true);
    }
}

/// The editor's text changed: save it shortly.
pub(crate) fn changed(text: &str) {
    if current_id().is_none() {
        return;
    }
    PENDING.with(|p| *p.borrow_mut() = Some(text.to_owned()));
    if TIMER.with(|t| t.replace(true)) {
        return;
    }
    let run = Closure::once_into_js(move || {
        TIMER.with(|t| t.set(false));
        flush();
    });
    if let Some(w) = web_sys::window() {
        let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(
            run.unchecked_ref(),
            SAVE_DELAY_MS,
        );
    }
}

/// Write the pending text now (also called when the page is hidden).
pub(crate) fn flush() {
    let Some(text) = PENDING.with(|p| p.borrow_mut().take()) else {
        return;
    };
    let added = OPEN.with(|o| {
        let mut o = o.borrow_mut();
        let open = o.as_mut()?;
        let added = open.history.record(&text, now(), false);
        Some((open.id.clone(), added))
    });
    if let Some((id, added)) = added {
        write(&id, &text, added);
        touch(&id, None);
    }
}

fn write(id: &str, text: &str, with_history: bool) {
    // The text first: it is what a reload shows.
    if !store(&text_key(id), text, id) {
        return;
    }
    if !with_history {
        return;
    }
    let json = OPEN.with(|o| {
        o.borrow()
            .as_ref()
            .filter(|o| o.id == id)
            .map(|o| o.history.to_json())
    });
    if let Some(json) = json {
        if !store(&hist_key(id), &json, id) {
            // Keep the newest half of this document's versions rather than none.
            let half = OPEN.with(|o| {
                let mut o = o.borrow_mut();
                let open = o.as_mut().filter(|o| o.id == id)?;
                let n = open.history.versions.len();
                open.history.versions.drain(..n / 2);
                Some(open.history.to_json())
            });
            if let Some(half) = half {
                storage_try_set(&hist_key(id), &half);
            }
        }
    }
}

/// Save on `pagehide` and when the tab is hidden, so a reload or a closed tab
/// keeps the last keystroke.
pub(crate) fn save_when_hidden() {
    let Some(window) = web_sys::window() else {
        return;
    };
    let on_hide = Closure::<dyn FnMut()>::new(|| {
        flush();
        // The newest version's text too (it is updated in memory while typing).
        if let Some(id) = current_id() {
            write(&id, &saved_text(&id).unwrap_or_default(), true);
        }
    });
    let _ = window.add_event_listener_with_callback("pagehide", on_hide.as_ref().unchecked_ref());
    let _ = window
        .add_event_listener_with_callback("visibilitychange", on_hide.as_ref().unchecked_ref());
    on_hide.forget();
}

/// A new document of the user's own, holding `text`.
pub(crate) fn create_copy(name: &str, text: &str) -> String {
    let id = format!("copy-{}", now() as u64);
    storage_set(&text_key(&id), text);
    let mut history = History::default();
    history.record(text, now(), true);
    storage_set(&hist_key(&id), &history.to_json());
    touch(&id, Some(name));
    storage_set(CURRENT, &id);
    id
}

/// Open a local document in the editor: the current text is kept as a
/// version of its own document first. `undoable` replaces the text as one
/// undo step (choosing an example); otherwise the editor starts afresh.
pub(crate) fn open_document(ctx: Ctx, id: &str, name: &str, text: &str, undoable: bool) {
    if ctx.preview {
        return;
    }
    checkpoint(&editor_text());
    open(id, name, text);
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
        crate::state::set_url("/");
    }
}
