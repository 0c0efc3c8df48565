//! Monaco's language providers, registered once the editor exists: they read
//! the latest lint ([`crate::lint::current`]) and answer through
//! [`crate::language`] (the adapter over `shared::ide`).
//!
//! Hover, completion, format, definition and references are `#[lazy]`: the
//! `shared::ide` code behind them loads as its own wasm chunk the first time
//! Monaco asks (split out by `build-ui`); quick fixes stay in the page (Monaco
//! asks for them on every cursor move over a marker).

use leptos::prelude::lazy;

use crate::language::{self, ItemKind};
use crate::lint;
use crate::monaco::{self, CompletionItem, MonacoRange};
use crate::state::with_editor;

/// Hover, completion and quick fixes (from the latest lint), then the
/// `shared::ide` providers (format, definition, references).
pub(crate) fn register() {
    monaco::on_hover(Box::new(|line, column| Box::pin(hover(line, column))));
    monaco::on_completion(
        // Never on whitespace: a space or Enter while indenting must not open
        // (or accept) a suggestion. Keys open on a word prefix (quickSuggestions),
        // `$` and `.` open references, Ctrl+Space asks.
        &["$", "."],
        Box::new(|line, column| Box::pin(complete(line, column))),
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
