use crate::declare_rule;
use crate::rules::{Context, Rule, Sink};
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
    fn check(&self, ctx: &Context, sink: &mut Sink) {
        super::report_each(ctx, sink, |kind| {
            (*kind == YamlProblemKind::RecursiveAlias)
                .then(|| "alias refers to a collection that contains it".to_owned())
        });
    }
}
