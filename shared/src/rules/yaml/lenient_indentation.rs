use crate::declare_rule;
use crate::rules::{Context, Rule, Sink};
use crate::syntax::YamlProblemKind;

declare_rule! {
    /// ## What
    /// A flow collection (`[…]`, `{…}`) or a quoted scalar that continues on a
    /// line indented less than its key, or a closing `]` at the key's own
    /// indent. YAML 1.2 forbids it; PyYAML and go-yaml (so `docker compose`)
    /// accept it, and so do we.
    ///
    /// ## Why
    /// Not an error: the file works with compose. Strict YAML tools (and
    /// some editors' formatters) reject it, so it is worth knowing.
    ///
    /// ## Example
    /// ```yaml
    /// services:
    ///   web:
    ///     ports: [
    ///       "80:80"
    ///     ]
    /// ```
    pub struct LenientIndentation {
        code: "Y009",
        name: "lenient-indentation",
        severity: Info,
        layer: Yaml,
        summary: "Indentation that strict YAML 1.2 rejects but compose accepts",
        help: "Indent the continuation (or the closing bracket) deeper than the key to satisfy strict YAML parsers.",
        fixable: false,
    }
}

impl Rule for LenientIndentation {
    fn check(&self, ctx: &Context, sink: &mut Sink) {
        super::report_each(ctx, sink, |kind| match kind {
            YamlProblemKind::Lenient(what) => Some(what.clone()),
            _ => None,
        });
    }
}
