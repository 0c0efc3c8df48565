//! Code actions: every rule's mechanical fix, and "ignore this finding" as a
//! `# specstudio-ignore: CODE` comment on the line above the finding.

use crate::diagnostic::TextEdit;
use crate::span::{LineIndex, Span};
use crate::Analysis;

/// A quick fix for one finding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodeAction {
    pub title: String,
    pub edits: Vec<TextEdit>,
    /// Index of the finding in `analysis.diagnostics`.
    pub diagnostic: usize,
    /// The rule's own fix (editors apply it first on "fix all" / Ctrl+.).
    pub preferred: bool,
}

/// The comment that silences `code` on the next line.
pub fn ignore_comment(code: &str) -> String {
    format!("# specstudio-ignore: {code}")
}

/// Actions for the findings that touch `span` (byte range of a selection or cursor).
///
/// ```
/// let text = "services:\n  Web:\n    image: nginx\n    x-omnistrate-capabilities:\n      endpointPerReplica: true\n";
/// let a = shared::analyze(text);
/// let at = text.find("endpointPerReplica").unwrap();
/// let actions = shared::ide::code_actions(text, &a, shared::Span::empty(at));
/// assert!(actions.iter().any(|x| x.preferred && x.title.contains("enableEndpointPerReplica")));
/// assert!(actions.iter().any(|x| x.title.contains("Ignore O002")));
/// ```
pub fn code_actions(text: &str, analysis: &Analysis, span: Span) -> Vec<CodeAction> {
    let index = LineIndex::new(text);
    let mut out = Vec::new();
    for (i, d) in analysis.diagnostics.iter().enumerate() {
        let touches = d.span.start <= span.end && span.start <= d.span.end;
        if !touches {
            continue;
        }
        if let Some(fix) = &d.fix {
            out.push(CodeAction {
                title: fix.title.clone(),
                edits: fix.edits.clone(),
                diagnostic: i,
                preferred: true,
            });
        }
        let line = index.line_of(d.span.start.min(text.len()));
        let start = index.line_start(line);
        let line_text = &text[index.line_span(text, line).start..index.line_span(text, line).end];
        let indent: String = line_text
            .chars()
            .take_while(|c| *c == ' ' || *c == '\t')
            .collect();
        out.push(CodeAction {
            title: format!("Ignore {} here (# specstudio-ignore)", d.code),
            edits: vec![TextEdit {
                span: Span::empty(start),
                replacement: format!("{indent}{}\n", ignore_comment(d.code)),
            }],
            diagnostic: i,
            preferred: false,
        });
    }
    out
}
