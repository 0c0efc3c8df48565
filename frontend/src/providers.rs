//! Monaco's language providers, registered once the editor exists: they read
//! the latest lint ([`crate::lint::current`]) and answer through
//! [`crate::language`] (the adapter over `shared::ide`).

use crate::language::{self, ItemKind};
use crate::lint;
use crate::monaco::{self, CompletionItem, MonacoRange};
use crate::state::with_editor;

/// Hover, completion and quick fixes (from the latest lint), then the
/// `shared::ide` providers (format, definition, references).
pub(crate) fn register() {
    monaco::on_hover(Box::new(|line, column| {
        let snapshot = lint::current()?;
        let (markdown, range) = language::hover(&snapshot.text, &snapshot.analysis, line, column)?;
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
        }),
    );
    monaco::on_code_action(Box::new(lint::fixes_for));
    register_ide();
}

/// Register "Format Document", go-to-definition and find-references on Monaco.
/// Definitions read the latest lint (names need a parsed text).
fn register_ide() {
    let ranges = |v: Vec<shared::span::Range>| v.into_iter().map(MonacoRange::from_range).collect();
    monaco::on_format(Box::new(|text| {
        language::format(text)
            .into_iter()
            .map(|(r, t)| (MonacoRange::from_range(r), t))
            .collect()
    }));
    monaco::on_definition(Box::new(
        move |text, line, column| match crate::lint::current() {
            Some(s) if s.text == text => ranges(
                language::definition(text, &s.analysis, line, column)
                    .into_iter()
                    .collect(),
            ),
            _ => Vec::new(),
        },
    ));
    monaco::on_references(Box::new(
        move |text, line, column| match crate::lint::current() {
            Some(s) if s.text == text => {
                ranges(language::references(text, &s.analysis, line, column))
            }
            _ => Vec::new(),
        },
    ));
}
