use crate::declare_rule;
use crate::rules::{Context, Rule, RuleMeta, Sink};
use crate::syntax::YamlProblemKind;

declare_rule! {
    /// ## What
    /// An alias refers to the collection it sits in.
    ///
    /// ## Why
    /// Such a document is infinite; the alias is read as null.
    ///
    /// ## Example
    /// ```yaml
    /// a: &a
    ///   self: *a
    /// ```
    pub struct RecursiveAlias {
        code: "Y007",
        name: "recursive-alias",
        severity: Error,
        layer: Yaml,
        summary: "An alias refers to its own ancestor",
        help: "Point the alias at a node outside the anchored collection.",
        fixable: false,
    }
}

impl Rule for RecursiveAlias {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &Context, sink: &mut Sink) {
        for problem in ctx.yaml_problems {
            if problem.kind == YamlProblemKind::RecursiveAlias {
                sink.at_span(
                    problem.span,
                    None,
                    "alias refers to a collection that contains it",
                );
            }
        }
    }
}
