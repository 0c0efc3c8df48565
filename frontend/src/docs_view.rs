//! Header dialogs around the documents: the documents list with the open
//! document's history (restore any version), the examples gallery (asks
//! before it replaces an edited copy; the replacement is one undo step) and
//! "Edit a copy" for the read-only preview.

use leptos::prelude::*;

use crate::dialog::Modal;
use crate::docs;
use crate::documents;
use crate::documents::open_document;
use crate::examples::EXAMPLES;
use crate::state::{editor_text, with_editor, Ctx, HeaderDialog};

/// "14:05:09" or "3 Dec 14:05" for a `Date.now()` value.
fn when(ms: f64) -> String {
    let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms));
    let today = js_sys::Date::new_0().to_date_string() == d.to_date_string();
    let time = format!(
        "{:02}:{:02}:{:02}",
        d.get_hours(),
        d.get_minutes(),
        d.get_seconds()
    );
    if today {
        time
    } else {
        format!("{} {time}", String::from(d.to_date_string()))
    }
}

fn summary(text: &str) -> String {
    let lines = text.lines().count();
    format!("{lines} lines, {} bytes", text.len())
}

#[component]
fn DocumentsDialog() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let close = Callback::new(move |_| ctx.dialog.set(None));
    // Keep the open document's latest text in its history before listing it.
    documents::checkpoint(&editor_text());
    let current = ctx.doc.get_untracked().0;
    let docs_list = documents::list();
    let mut versions = documents::versions();
    versions.reverse();
    let newest = versions.first().map(|v| v.text.clone());
    view! {
        <Modal title="Documents".into() testid="documents-dialog" on_close=close class="documents-dialog">
            <p class="muted">"Every text you edit is kept in this browser. Links, stored specs and examples open as their own documents."</p>
            <ul class="doc-list">
                {docs_list.into_iter().map(|d| {
                    let is_current = d.id == current;
                    let (id, name) = (d.id.clone(), d.name.clone());
                    view! {
                        <li data-testid="document" data-id=d.id.clone() class:current=is_current>
                            <span class="name">{d.name.clone()}</span>
                            <span class="muted">{when(d.updated)}</span>
                            {if is_current {
                                view! { <span class="tag">"open"</span> }.into_any()
                            } else {
                                view! {
                                    <button data-testid="open-document" on:click=move |_| {
                                        let text = documents::saved_text(&id).unwrap_or_default();
                                        ctx.dialog.set(None);
                                        open_document(ctx, &id, &name, &text, false);
                                    }>"Open"</button>
                                }.into_any()
                            }}
                        </li>
                    }
                }).collect_view()}
            </ul>
            <h4>"History of this document"</h4>
            <ul class="history" data-testid="history">
                {versions.into_iter().enumerate().map(|(i, v)| {
                    let text = v.text.clone();
                    let is_newest = i == 0 && newest.as_deref() == Some(v.text.as_str());
                    view! {
                        <li data-testid="history-version">
                            <span>{when(v.at)}</span>
                            <span class="muted">{summary(&v.text)}</span>
                            {if is_newest {
                                view! { <span class="tag">"current"</span> }.into_any()
                            } else {
                                view! {
                                    <button data-testid="restore-version" on:click=move |_| {
                                        // The text on screen stays a version of its own.
                                        documents::checkpoint(&editor_text());
                                        with_editor(|e| e.replace_all(&text));
                                        ctx.dialog.set(None);
                                    }>"Restore"</button>
                                }.into_any()
                            }}
                        </li>
                    }
                }).collect_view()}
            </ul>
            <div class="actions"><button on:click=move |_| close.run(())>"Close"</button></div>
        </Modal>
    }
}

/// One line per example in the gallery.
const EXAMPLE_LINES: &[(&str, &str)] = &[
    ("serverless", "A MySQL master with read replicas: autoscaling, multi-zone, auto-stop when idle, generated passwords."),
    ("hello-world", "The smallest deployable spec: one MySQL service and its parameters."),
    ("autoscaling", "Read replicas that scale between 1 and 5 on CPU use; no auto-stop, one zone."),
    ("multi-zone", "A master and read replicas spread over zones, each replica with its own endpoint."),
];

#[component]
fn ExamplesGallery() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let close = Callback::new(move |_| ctx.dialog.set(None));
    // An example whose document holds edits: (id, label, text), confirmed first.
    let confirm: RwSignal<Option<(&'static str, &'static str, &'static str)>> = RwSignal::new(None);
    let choose = move |id: &'static str, label: &'static str, text: &'static str| {
        let doc = docs::example_doc_id(id);
        let edited = documents::saved_text(&doc).filter(|saved| saved != text);
        let on_screen = editor_text();
        if confirm.get_untracked().is_none() && edited.is_some() && on_screen != text {
            confirm.set(Some((id, label, text)));
            return;
        }
        ctx.dialog.set(None);
        open_document(ctx, &doc, &format!("Example: {label}"), text, true);
    };
    view! {
        <Modal title="Examples".into() testid="examples-gallery" on_close=close class="examples-gallery">
            <p class="muted">"Each example opens as its own document; your text stays in Documents."</p>
            <ul class="gallery">
                {EXAMPLES.iter().map(|(id, label, text)| {
                    let line = EXAMPLE_LINES.iter().find(|(k, _)| k == id).map(|(_, l)| *l).unwrap_or("");
                    view! {
                        <li>
                            <button class="example" data-testid="example" data-id=*id on:click=move |_| choose(id, label, text)>
                                <b>{*label}</b>
                                <span>{line}</span>
                            </button>
                        </li>
                    }
                }).collect_view()}
            </ul>
            {move || confirm.get().map(|(id, label, text)| view! {
                <div class="confirm" role="alertdialog" aria-labelledby="confirm-example-title" data-testid="confirm-example">
                    <p id="confirm-example-title">{format!("Your copy of “{label}” has edits. Replace them with the original example? (Ctrl+Z undoes it; the edits stay in the document's history.)")}</p>
                    <button class="primary" data-testid="confirm-replace" on:click=move |_| choose(id, label, text)>"Replace"</button>
                    <button on:click=move |_| {
                        // Open the edited copy as it is.
                        let doc = docs::example_doc_id(id);
                        let saved = documents::saved_text(&doc).unwrap_or_else(|| text.to_owned());
                        ctx.dialog.set(None);
                        open_document(ctx, &doc, &format!("Example: {label}"), &saved, false);
                    }>"Open my copy"</button>
                </div>
            })}
            <div class="actions"><button on:click=move |_| close.run(())>"Cancel"</button></div>
        </Modal>
    }
}

#[component]
fn ShortcutsPanel() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let close = Callback::new(move |_| ctx.dialog.set(None));
    let rows: &[(&str, &str)] = &[
        ("?", "This panel (outside the editor)"),
        ("Ctrl+Space", "Complete (keys, parameters, references)"),
        ("Ctrl+.", "Quick fix at the cursor"),
        ("Shift+Alt+F", "Format document"),
        ("F8 / Shift+F8", "Next / previous problem"),
        (
            "Ctrl+M",
            "Toggle Tab moving focus out of the editor (keyboard users)",
        ),
        ("F1", "Command palette"),
        ("Escape", "Close a dialog or the deploy drawer"),
        ("Enter / Space", "On a graph node: reveal its service"),
    ];
    view! {
        <Modal title="Keyboard shortcuts".into() testid="shortcuts-panel" on_close=close>
            <table class="shortcuts">
                {rows.iter().map(|(k, what)| view! { <tr><td><kbd>{*k}</kbd></td><td>{*what}</td></tr> }).collect_view()}
            </table>
            <div class="actions"><button on:click=move |_| close.run(())>"Close"</button></div>
        </Modal>
    }
}

/// The dialog the header asked for, if any. The dialogs load as their own
/// module the first time one opens (`#[lazy]`, split out by `build-ui`).
#[allow(unreachable_pub)] // leptos's #[component] expands to `pub` items
#[component]
pub(crate) fn HeaderDialogs() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    move || {
        ctx.dialog
            .get()
            .map(|which| Suspend::new(async move { header_dialog(which).await }))
    }
}

#[lazy]
fn header_dialog(which: HeaderDialog) -> AnyView {
    match which {
        HeaderDialog::Documents => view! { <DocumentsDialog/> }.into_any(),
        HeaderDialog::Examples => view! { <ExamplesGallery/> }.into_any(),
        HeaderDialog::Shortcuts => view! { <ShortcutsPanel/> }.into_any(),
    }
}

/// Make the shown spec (a preview, a link, a stored spec) the user's own document; the user's own document and open the editor on it.
#[allow(unreachable_pub)] // leptos's #[component] expands to `pub` items
#[component]
pub(crate) fn EditACopy() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let on_click = move |_| {
        let text = editor_text();
        let from = ctx.doc.get_untracked().1;
        let name = if from.is_empty() {
            "Copy of a shared spec".to_owned()
        } else {
            format!("Copy of {from}")
        };
        if ctx.preview {
            documents::create_copy(&name, &text);
            if let Some(w) = web_sys::window() {
                let _ = w.location().assign("/");
            }
            return;
        }
        documents::checkpoint(&text);
        let id = documents::create_copy(&name, &text);
        open_document(ctx, &id, &name, &text, false);
    };
    view! { <button data-testid="edit-copy" on:click=on_click>"Edit a copy"</button> }
}
