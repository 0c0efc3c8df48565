use crate::declare_rule;
use crate::rules::{Context, Rule, Sink};

use super::support::{later_and_earlier, present, span_of};

declare_rule! {
    /// ## What
    /// An API parameter with both `options` and `labeledOptions`.
    ///
    /// ## Why
    /// The docs say to use one or the other: the customer form shows one
    /// list, so the other is ignored and the two easily drift apart.
    ///
    /// ## Example
    /// ```yaml
    /// - key: tier
    ///   type: String
    ///   options: [small, large]
    ///   labeledOptions:
    ///     Small: small
    ///     Large: large
    /// ```
    pub struct OptionsAndLabeledOptions {
        code: "O027",
        name: "options-and-labeled-options",
        severity: Warning,
        layer: Omnistrate,
        summary: "An API parameter has both `options` and `labeledOptions`",
        help: "Keep `labeledOptions` if the values need labels, else `options`; remove the other.",
        fixable: false,
    }
}

impl Rule for OptionsAndLabeledOptions {
    fn check(&self, ctx: &Context, sink: &mut Sink) {
        let tree = ctx.tree;
        for service in &ctx.spec.services {
            for param in &service.api_params {
                let (Some(options), Some(labeled)) = (
                    present(tree, param.node, "options"),
                    present(tree, param.node, "labeledOptions"),
                ) else {
                    continue;
                };
                let (later, earlier) = later_and_earlier(tree, options, labeled);
                let earlier_key = tree.str(earlier.key).unwrap_or_default();
                let message = match param.key_str() {
                    Some(key) => format!("`{key}` has both `options` and `labeledOptions`"),
                    None => "API parameter has both `options` and `labeledOptions`".to_owned(),
                };
                sink.at(later.key, message).related(
                    span_of(tree, earlier.key),
                    format!("`{earlier_key}` set here"),
                );
            }
        }
    }
}
