//! `shared` and `shared::ide` values → `lsp_types` values.

use std::collections::HashMap;

use lsp_types as lsp;
use shared::ide;
use shared::{Diagnostic, Severity};

use super::document::{Document, Encoding};

pub(super) fn diagnostic(
    doc: &Document,
    uri: &lsp::Uri,
    d: &Diagnostic,
    enc: Encoding,
) -> lsp::Diagnostic {
    lsp::Diagnostic {
        range: doc.range(d.span, enc),
        severity: Some(match d.severity {
            Severity::Error => lsp::DiagnosticSeverity::ERROR,
            Severity::Warning => lsp::DiagnosticSeverity::WARNING,
            Severity::Info => lsp::DiagnosticSeverity::INFORMATION,
        }),
        code: Some(lsp::NumberOrString::String(d.code.to_owned())),
        code_description: None,
        source: Some("specstudio".into()),
        message: match &d.help {
            Some(help) => format!("{}\n{help}", d.message),
            None => d.message.clone(),
        },
        related_information: (!d.related.is_empty()).then(|| {
            d.related
                .iter()
                .map(|r| lsp::DiagnosticRelatedInformation {
                    location: lsp::Location::new(uri.clone(), doc.range(r.span, enc)),
                    message: r.message.clone(),
                })
                .collect()
        }),
        tags: None,
        data: None,
    }
}

pub(super) fn text_edit(doc: &Document, e: &shared::TextEdit, enc: Encoding) -> lsp::TextEdit {
    lsp::TextEdit::new(doc.range(e.span, enc), e.replacement.clone())
}

pub(super) fn workspace_edit(uri: &lsp::Uri, edits: Vec<lsp::TextEdit>) -> lsp::WorkspaceEdit {
    lsp::WorkspaceEdit {
        changes: Some(HashMap::from([(uri.clone(), edits)])),
        ..Default::default()
    }
}

pub(super) fn completion(
    doc: &Document,
    c: ide::Completion,
    enc: Encoding,
    rank: usize,
) -> lsp::CompletionItem {
    lsp::CompletionItem {
        kind: Some(match c.kind {
            ide::ItemKind::Property => lsp::CompletionItemKind::PROPERTY,
            ide::ItemKind::Value => lsp::CompletionItemKind::VALUE,
            ide::ItemKind::Reference => lsp::CompletionItemKind::REFERENCE,
            ide::ItemKind::Module => lsp::CompletionItemKind::MODULE,
        }),
        detail: c.detail,
        documentation: c.doc.map(|value| {
            lsp::Documentation::MarkupContent(lsp::MarkupContent {
                kind: lsp::MarkupKind::Markdown,
                value,
            })
        }),
        // Keep the core's order; filter on what the edit replaces.
        sort_text: Some(format!("{rank:04}")),
        text_edit: Some(lsp::CompletionTextEdit::Edit(lsp::TextEdit::new(
            doc.range(c.span, enc),
            c.insert,
        ))),
        label: c.label,
        ..Default::default()
    }
}

#[allow(deprecated)] // `DocumentSymbol::deprecated` must still be spelled out.
pub(super) fn symbol(doc: &Document, s: ide::DocumentSymbol, enc: Encoding) -> lsp::DocumentSymbol {
    lsp::DocumentSymbol {
        name: if s.name.is_empty() {
            "?".into()
        } else {
            s.name
        },
        detail: s.detail,
        kind: match s.kind {
            ide::SymbolKind::Service => lsp::SymbolKind::CLASS,
            ide::SymbolKind::ApiParam => lsp::SymbolKind::VARIABLE,
            ide::SymbolKind::Extension => lsp::SymbolKind::NAMESPACE,
            ide::SymbolKind::Section => lsp::SymbolKind::MODULE,
        },
        tags: None,
        deprecated: None,
        range: doc.range(s.span, enc),
        selection_range: doc.range(s.selection, enc),
        children: (!s.children.is_empty()).then(|| {
            s.children
                .into_iter()
                .map(|c| symbol(doc, c, enc))
                .collect()
        }),
    }
}
