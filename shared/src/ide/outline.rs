//! Document symbols (services, their api-params and extensions, top-level
//! extensions) and folding ranges.

use crate::span::Span;
use crate::syntax::{NodeId, Tree};
use crate::Analysis;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SymbolKind {
    Service,
    ApiParam,
    Extension,
    Section,
}

/// One entry of the outline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DocumentSymbol {
    pub name: String,
    pub detail: Option<String>,
    pub kind: SymbolKind,
    /// Key and value.
    pub span: Span,
    /// The key.
    pub selection: Span,
    pub children: Vec<DocumentSymbol>,
}

fn entry_symbol(tree: &Tree, key: NodeId, value: NodeId, kind: SymbolKind) -> DocumentSymbol {
    let selection = tree.value_span(key);
    let value_span = tree.span(value);
    DocumentSymbol {
        name: tree.str(key).unwrap_or_default().to_owned(),
        detail: None,
        kind,
        span: Span::new(selection.start, value_span.end.max(selection.end)),
        selection,
        children: Vec::new(),
    }
}

/// The outline of a spec.
///
/// ```
/// let a = shared::analyze("services:\n  Web:\n    image: nginx\n");
/// let outline = shared::ide::document_symbols(&a);
/// assert_eq!(outline[0].children[0].name, "Web");
/// ```
pub fn document_symbols(analysis: &Analysis) -> Vec<DocumentSymbol> {
    let tree = &analysis.tree;
    let spec = &analysis.spec;
    let Some(root) = tree.root else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for entry in tree.own_entries(root) {
        let key = tree.str(entry.key).unwrap_or_default();
        if key == "services" {
            let mut section = entry_symbol(tree, entry.key, entry.value, SymbolKind::Section);
            for s_entry in tree.own_entries(entry.value) {
                let mut svc = entry_symbol(tree, s_entry.key, s_entry.value, SymbolKind::Service);
                if let Some(service) = spec.service(&svc.name) {
                    svc.detail = service.image.as_ref().map(|i| i.value.clone());
                    for e in tree.own_entries(s_entry.value) {
                        if tree.str(e.key).is_some_and(|k| k.starts_with("x-")) {
                            svc.children.push(entry_symbol(
                                tree,
                                e.key,
                                e.value,
                                SymbolKind::Extension,
                            ));
                        }
                    }
                    for p in &service.api_params {
                        let Some(k) = &p.key else { continue };
                        let item = tree.span(p.node);
                        svc.children.push(DocumentSymbol {
                            name: k.value.clone(),
                            detail: p.type_name.as_ref().map(|t| t.value.clone()),
                            kind: SymbolKind::ApiParam,
                            span: Span::new(item.start.min(k.span.start), item.end.max(k.span.end)),
                            selection: k.span,
                            children: Vec::new(),
                        });
                    }
                }
                section.children.push(svc);
            }
            out.push(section);
        } else if key.starts_with("x-") {
            out.push(entry_symbol(
                tree,
                entry.key,
                entry.value,
                SymbolKind::Extension,
            ));
        } else {
            out.push(entry_symbol(
                tree,
                entry.key,
                entry.value,
                SymbolKind::Section,
            ));
        }
    }
    out
}

/// A foldable block: zero-based first and last line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fold {
    pub start_line: usize,
    pub end_line: usize,
}

/// Folds by indentation: a line folds the lines below it that are indented
/// deeper (blank and comment lines inside included). Works on broken YAML.
///
/// ```
/// let folds = shared::ide::folding_ranges("a:\n  b: 1\n  c: 2\nd: 3\n");
/// assert_eq!((folds[0].start_line, folds[0].end_line), (0, 2));
/// ```
pub fn folding_ranges(text: &str) -> Vec<Fold> {
    // (indent, line) of open blocks.
    let mut open: Vec<(usize, usize)> = Vec::new();
    let mut out = Vec::new();
    let mut last_content = 0;
    let close =
        |open: &mut Vec<(usize, usize)>, out: &mut Vec<Fold>, indent: usize, last: usize| {
            while let Some(&(i, start)) = open.last() {
                if i < indent {
                    break;
                }
                open.pop();
                if last > start {
                    out.push(Fold {
                        start_line: start,
                        end_line: last,
                    });
                }
            }
        };
    for (n, line) in text.lines().enumerate() {
        let body = line.trim_start_matches([' ', '\t']);
        if body.is_empty() || body.starts_with('#') {
            continue;
        }
        let indent = line.len() - body.len();
        close(&mut open, &mut out, indent, last_content);
        open.push((indent, n));
        // A list item's content sits deeper than its dash.
        last_content = n;
    }
    close(&mut open, &mut out, 0, last_content);
    out.sort_by_key(|f| (f.start_line, f.end_line));
    out
}
