//! Monaco's language providers, registered once the editor exists: they read
//! the latest lint ([`crate::lint::current`]) and answer through
//! [`crate::language`] (the adapter over `shared::ide`).
//!
//! Hover, completion, format, definition and references are `#[lazy]`: the
//! `shared::ide` code behind them loads as its own wasm chunk the first time
//! Monaco asks (split out by `build-ui`); quick fixes stay in the page (Monaco
//! asks for them on every cursor move over a marker).
//!
//! The rule and key docs are not in the page's build either (`shared` without
//! its `docs` feature): the first hover or completion fetches them
//! (`window.__specstudioPkg.docs`, the content-hashed `docs.<hash>.json` that
//! `build-ui` writes) and installs them before answering; later ones find
//! them there.

use std::cell::Cell;

use leptos::prelude::lazy;
use wasm_bindgen::{JsCast, JsValue};

use crate::language::{self, ItemKind};
use crate::lint;
use crate::monaco::{self, CompletionItem, MonacoRange};
use crate::state::with_editor;

/// Hover, completion and quick fixes (from the latest lint), then the
/// `shared::ide` providers (format, definition, references).
pub(crate) fn register() {
    monaco::on_hover(Box::new(|line, column| {
        Box::pin(async move {
            ensure_docs().await;
            hover(line, column).await
        })
    }));
    monaco::on_completion(
        // Never on whitespace: a space or Enter while indenting must not open
        // (or accept) a suggestion. Keys open on a word prefix (quickSuggestions),
        // `$` and `.` open references, Ctrl+Space asks.
        &["$", "."],
        Box::new(|line, column| {
            Box::pin(async move {
                ensure_docs().await;
                complete(line, column).await
            })
        }),
    );
    monaco::on_code_action(Box::new(lint::fixes_for));
    monaco::on_format(Box::new(|text| Box::pin(format(text))));
    monaco::on_definition(Box::new(|text, line, column| {
        Box::pin(definition(text, line, column))
    }));
    monaco::on_references(Box::new(|text, line, column| {
        Box::pin(references(text, line, column))
    }));
}

thread_local! {
    /// The docs were asked for (once: a failed fetch is not retried on
    /// every mouse move; the hovers then show the summaries only).
    static DOCS_ASKED: Cell<bool> = const { Cell::new(false) };
}

/// Fetch and install the docs the page's build lacks, once. A second hover
/// while the first fetch is in flight answers without them.
async fn ensure_docs() {
    if shared::docs::available() || DOCS_ASKED.with(|a| a.replace(true)) {
        return;
    }
    let url = web_sys::window()
        .and_then(|w| js_sys::Reflect::get(&w, &JsValue::from_str("__specstudioPkg")).ok())
        .and_then(|pkg| js_sys::Reflect::get(&pkg, &JsValue::from_str("docs")).ok())
        .and_then(|url| url.as_string());
    if let Some(url) = url {
        load_docs(url).await;
    }
}

/// `GET` the docs file and hand it to `shared::docs::install` (its own chunk:
/// the fetch and the JSON reading load with the first hover).
#[lazy]
async fn load_docs(url: String) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let fetched = async {
        let response: web_sys::Response =
            wasm_bindgen_futures::JsFuture::from(window.fetch_with_str(&url))
                .await?
                .unchecked_into();
        if !response.ok() {
            return Err(JsValue::from_str(&format!("HTTP {}", response.status())));
        }
        wasm_bindgen_futures::JsFuture::from(response.text()?).await
    };
    let outcome = match fetched.await {
        Ok(text) => shared::docs::install(&text.as_string().unwrap_or_default()),
        Err(e) => Err(format!("{url}: {e:?}")),
    };
    if let Err(e) = outcome {
        web_sys::console::warn_1(&JsValue::from_str(&format!(
            "specstudio: the rule and key docs did not load ({e})"
        )));
    }
}

#[lazy]
fn hover(line: u32, column: u32) -> Option<(String, Option<MonacoRange>)> {
    let snapshot = lint::current()?;
    let (markdown, range) = language::hover(&snapshot.text, &snapshot.analysis, line, column)?;
    Some((markdown, range.map(MonacoRange::from_range)))
}

#[lazy]
fn complete(line: u32, column: u32) -> Vec<CompletionItem> {
    let Some(text) = with_editor(|e| e.value()) else {
        return Vec::new();
    };
    let Some(snapshot) = lint::last_parsed() else {
        return Vec::new();
    };
    language::complete(&text, &snapshot.analysis, line, column)
        .into_iter()
        .enumerate()
        .map(|(i, c)| CompletionItem {
            label: c.label,
            kind: match c.kind {
                // monaco.languages.CompletionItemKind
                ItemKind::Property => 9,
                ItemKind::Value => 12,
                ItemKind::Reference => 17,
                ItemKind::Module => 8,
            },
            insert_text: c.insert,
            detail: c.detail,
            documentation: c.doc,
            range: MonacoRange::from_range(c.range),
            sort_text: Some(format!("{i:04}")),
        })
        .collect()
}

/// "Format Document": one whole-text edit, none when already formatted.
#[lazy]
fn format(text: String) -> Vec<(MonacoRange, String)> {
    language::format(&text)
        .into_iter()
        .map(|(r, t)| (MonacoRange::from_range(r), t))
        .collect()
}

fn ranges(v: Vec<shared::span::Range>) -> Vec<MonacoRange> {
    v.into_iter().map(MonacoRange::from_range).collect()
}

/// Go to definition; names need the latest lint of this very text.
#[lazy]
fn definition(text: String, line: u32, column: u32) -> Vec<MonacoRange> {
    match lint::current() {
        Some(s) if s.text == text => ranges(
            language::definition(&text, &s.analysis, line, column)
                .into_iter()
                .collect(),
        ),
        _ => Vec::new(),
    }
}

/// Find references; like [`definition`].
#[lazy]
fn references(text: String, line: u32, column: u32) -> Vec<MonacoRange> {
    match lint::current() {
        Some(s) if s.text == text => ranges(language::references(&text, &s.analysis, line, column)),
        _ => Vec::new(),
    }
}
