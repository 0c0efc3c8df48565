use crate::declare_rule;
use crate::rules::{Context, Rule, RuleMeta, Sink};
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
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &Context, sink: &mut Sink) {
        for problem in ctx.yaml_problems {
            if problem.kind == YamlProblemKind::AliasExpansion {
                sink.at_span(
                    problem.span,
                    None,
                    format!("aliases expand to more than {MAX_ALIAS_EXPANSION} nodes"),
                );
            }
        }
    }
}
