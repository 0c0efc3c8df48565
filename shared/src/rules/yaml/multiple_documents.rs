use crate::declare_rule;
use crate::rules::{Context, Rule, Sink};
use crate::syntax::YamlProblemKind;

declare_rule! {
    /// ## What
    /// The file holds more than one YAML document (`---`).
    ///
    /// ## Why
    /// A service spec is one document; everything after the first is ignored.
    ///
    /// ## Example
    /// ```yaml
    /// services: {}
    /// ---
    /// services: {}
    /// ```
    pub struct MultipleDocuments {
        code: "Y008",
        name: "multiple-documents",
        severity: Warning,
        layer: Yaml,
        summary: "Only the first YAML document is read",
        help: "Move everything into one document.",
        fixable: false,
    }
}

impl Rule for MultipleDocuments {
    fn check(&self, ctx: &Context, sink: &mut Sink) {
        super::report_each(ctx, sink, |kind| {
            (*kind == YamlProblemKind::MultipleDocuments)
                .then(|| "a second YAML document starts here and is ignored".to_owned())
        });
    }
}
