use crate::declare_rule;
use crate::rules::{Context, Rule, Sink};
use crate::syntax::YamlProblemKind;

declare_rule! {
    /// ## What
    /// The text is not valid YAML: the parser stopped here.
    ///
    /// ## Why
    /// The block around the error (the service or top-level entry) cannot be
    /// read; the rest of the file is still checked, except for references
    /// into the unreadable block.
    ///
    /// ## Example
    /// ```yaml
    /// services:
    ///   Master:
    ///     image: "mysql   # unclosed quote
    /// ```
    pub struct SyntaxError {
        code: "Y001",
        name: "yaml-syntax",
        severity: Error,
        layer: Yaml,
        summary: "The document is not valid YAML",
        help: "Check indentation, quotes and `:` separators around this point.",
        fixable: false,
    }
}

impl Rule for SyntaxError {
    fn check(&self, ctx: &Context, sink: &mut Sink) {
        super::report_each(ctx, sink, |kind| match kind {
            YamlProblemKind::Syntax(info) => Some(format!("YAML syntax error: {info}")),
            _ => None,
        });
    }
}
