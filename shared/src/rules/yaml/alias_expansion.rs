use crate::declare_rule;
use crate::rules::{Context, Rule, Sink};
use crate::syntax::{YamlProblemKind, MAX_ALIAS_EXPANSION};

declare_rule! {
    /// ## What
    /// Aliases (`*name`) would expand the document past the expansion limit.
    ///
    /// ## Why
    /// Nested aliases grow exponentially ("billion laughs"); the aliases past the limit are
    /// read as null so that checking stays bounded in time and memory.
    ///
    /// ## Example
    /// ```yaml
    /// a: &a ["x", "x", "x", "x", "x", "x", "x", "x", "x"]
    /// b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
    /// c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
    /// ```
    pub struct AliasExpansion {
        code: "Y006",
        name: "alias-expansion-limit",
        severity: Error,
        layer: Yaml,
        summary: "Aliases expand beyond the limit",
        help: "Use fewer nested aliases; aliases past the limit are read as null.",
        fixable: false,
    }
}

impl Rule for AliasExpansion {
    fn check(&self, ctx: &Context, sink: &mut Sink) {
        super::report_each(ctx, sink, |kind| {
            (*kind == YamlProblemKind::AliasExpansion)
                .then(|| format!("aliases expand to more than {MAX_ALIAS_EXPANSION} nodes"))
        });
    }
}
