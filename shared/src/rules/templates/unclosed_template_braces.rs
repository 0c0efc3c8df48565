use crate::declare_rule;
use crate::rules::{Context, Rule, Sink};

declare_rule! {
    /// ## What
    /// A value opens a template with `{{` but never closes it with `}}`.
    ///
    /// ## Why
    /// The reference inside is not resolved and the platform rejects the value.
    ///
    /// ## Example
    /// ```yaml
    /// environment:
    ///   - URL=mysql://{{ $var.user @db:3306
    /// ```
    pub struct UnclosedTemplateBraces {
        code: "T006",
        name: "unclosed-template-braces",
        severity: Error,
        layer: Templates,
        summary: "`{{` is never closed with `}}`",
        help: "Close the template with `}}`, e.g. `{{ $var.x }}`.",
        fixable: false,
    }
}

impl Rule for UnclosedTemplateBraces {
    fn check(&self, ctx: &Context, sink: &mut Sink) {
        for (node, span) in &ctx.spec.unclosed_braces {
            sink.at_span(*span, Some(*node), "`{{` is never closed with `}}`");
        }
    }
}
