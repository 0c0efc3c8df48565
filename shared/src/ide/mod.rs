//! The editor intelligence shared by the browser page and `specstudio lsp`:
//! hover, completion, code actions, go-to-definition / references / rename,
//! the outline, folding and the formatter. No UI and no I/O: everything takes
//! the text (and its [`Analysis`](crate::Analysis)) and speaks byte offsets and
//! [`Span`](crate::Span)s; each editor converts positions at its edge.

mod actions;
mod complete;
mod context;
mod format;
mod hover;
mod navigate;
mod outline;

pub use actions::{code_actions, ignore_comment, CodeAction};
pub use complete::{complete, Completion, ItemKind};
pub use context::{schema_at, PathSeg};
pub use format::format;
pub use hover::{hover, Hover};
pub use navigate::{
    definition, occurrences, prepare_rename, references, rename, symbol_at, Occurrence,
    RenameError, Symbol,
};
pub use outline::{document_symbols, folding_ranges, DocumentSymbol, Fold, SymbolKind};

/// The byte span of a service's name (graph click → reveal in the editor).
pub fn service_span(analysis: &crate::Analysis, name: &str) -> Option<crate::Span> {
    analysis.spec.service(name).map(|s| s.name.span)
}

#[cfg(test)]
mod tests;
