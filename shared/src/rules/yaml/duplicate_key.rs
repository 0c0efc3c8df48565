use crate::declare_rule;
use crate::rules::{Context, Rule, Sink};
use crate::syntax::YamlProblemKind;

declare_rule! {
    /// ## What
    /// A mapping holds the same key twice.
    ///
    /// ## Why
    /// YAML forbids it and tools disagree on which value wins; the second one is ignored here.
    ///
    /// ## Example
    /// ```yaml
    /// Master:
    ///   image: mysql:8
    ///   image: mysql:5.7
    /// ```
    pub struct DuplicateKey {
        code: "Y002",
        name: "duplicate-key",
        severity: Error,
        layer: Yaml,
        summary: "A mapping key appears twice",
        help: "Remove one of the two entries or rename it.",
        fixable: false,
    }
}

impl Rule for DuplicateKey {
    fn check(&self, ctx: &Context, sink: &mut Sink) {
        for problem in ctx.yaml_problems {
            if let YamlProblemKind::DuplicateKey { key, first } = &problem.kind {
                sink.at_span(problem.span, None, format!("duplicate key `{key}`"))
                    .related(*first, "first defined here");
            }
        }
    }
}
