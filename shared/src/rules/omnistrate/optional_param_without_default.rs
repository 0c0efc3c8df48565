use crate::declare_rule;
use crate::rules::{Context, Rule, Sink};

use super::support::present;

declare_rule! {
    /// ## What
    /// An API parameter with `required: false` and no `defaultValue`.
    ///
    /// ## Why
    /// The docs make `defaultValue` mandatory for optional parameters: when
    /// the customer leaves the field empty the platform has no value to put
    /// in `$var.<key>`. (A parameter without `required` is not reported.)
    ///
    /// ## Example
    /// ```yaml
    /// - key: numReadReplicas
    ///   type: Float64
    ///   required: false   # add defaultValue: "1"
    /// ```
    pub struct OptionalParamWithoutDefault {
        code: "O015",
        name: "optional-param-without-default",
        severity: Error,
        layer: Omnistrate,
        summary: "An optional API parameter has no default value",
        help: "Add a `defaultValue` (written as a string, e.g. `\"1\"`), or make the parameter `required: true`.",
        fixable: false,
    }
}

impl Rule for OptionalParamWithoutDefault {
    fn check(&self, ctx: &Context, sink: &mut Sink) {
        for service in &ctx.spec.services {
            for param in &service.api_params {
                let Some(required) = &param.required else {
                    continue;
                };
                if required.value || present(ctx.tree, param.node, "defaultValue").is_some() {
                    continue;
                }
                let message = match param.key_str() {
                    Some(key) => format!("optional API parameter `{key}` has no `defaultValue`"),
                    None => "optional API parameter has no `defaultValue`".to_owned(),
                };
                sink.at(required.node, message);
            }
        }
    }
}
