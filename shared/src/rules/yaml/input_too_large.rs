use crate::declare_rule;
use crate::rules::{Context, Rule, Sink};
use crate::syntax::{YamlProblemKind, MAX_INPUT_BYTES};

declare_rule! {
    /// ## What
    /// The spec is larger than 5 MiB and is not read.
    ///
    /// ## Why
    /// No real service spec comes near this size; refusing it keeps the editor and server responsive.
    ///
    /// ## Example
    /// A generated file of 6 MB.
    pub struct InputTooLarge {
        code: "Y004",
        name: "input-too-large",
        severity: Error,
        layer: Yaml,
        summary: "The spec exceeds the 5 MiB input limit",
        help: "Split the spec or remove generated content.",
        fixable: false,
    }
}

impl Rule for InputTooLarge {
    fn check(&self, ctx: &Context, sink: &mut Sink) {
        super::report_each(ctx, sink, |kind| match kind {
            YamlProblemKind::TooLarge { bytes } => Some(format!(
                "the spec is {bytes} bytes; the limit is {MAX_INPUT_BYTES} bytes (5 MiB)"
            )),
            _ => None,
        });
    }
}
