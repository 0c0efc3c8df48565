use crate::declare_rule;
use crate::rules::{Context, Rule, Sink};

declare_rule! {
    /// ## What
    /// The spec was not checked, or not fully: it needs more work than the
    /// check allows (YAML keys, items and separators are counted before
    /// parsing; the finding sits on the line where the budget ran out), or
    /// the check ran out of CPU time between two rules (the finding names
    /// the first rule that did not run).
    ///
    /// ## Why
    /// The specstudio server checks specs posted by anyone. One request must
    /// not cost unbounded memory or CPU, so its analysis is bounded
    /// (`shared::limits`); what was not checked is said, never silently
    /// passed. The editor, `specstudio lint` and the language server check
    /// without these bounds and never report it.
    ///
    /// ## Example
    /// A generated spec of 50,001 one-line mappings posted to
    /// `/api/validate` (the server allows 150,000 units of work):
    /// ```yaml
    /// k000000: {}
    /// k000001: {}
    /// # … 50,000 lines on: "the spec is too large to check here"
    /// ```
    pub struct AnalysisStopped {
        code: "Y998",
        name: "analysis-stopped",
        severity: Error,
        layer: Yaml,
        summary: "The spec is too large to check within this check's bounds",
        help: "Split the spec or remove generated content; `specstudio lint` checks it without this limit.",
        fixable: false,
    }
}

impl Rule for AnalysisStopped {
    /// Reported by the bounded analysis itself (`shared::limits`), before
    /// and between the rules: nothing to look for here.
    fn check(&self, _ctx: &Context, _sink: &mut Sink) {}
}
