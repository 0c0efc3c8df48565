use crate::declare_rule;
use crate::model::ParamType;
use crate::rules::{Context, Rule, Sink};

use super::support::present;

declare_rule! {
    /// ## What
    /// A `Resource`-type API parameter without `dependentResourceKey`.
    ///
    /// ## Why
    /// A `Resource` parameter asks the customer for the ID of an existing
    /// instance of another resource; `dependentResourceKey` says which one.
    /// One docs page omits it, so the platform may infer the target from the
    /// key, but the link is then implicit and easy to break.
    ///
    /// ## Example
    /// ```yaml
    /// - key: masterInstanceId
    ///   type: Resource
    ///   dependentResourceKey: Master
    /// ```
    pub struct ResourceParamWithoutDependentKey {
        code: "O018",
        name: "resource-param-without-dependent-key",
        severity: Warning,
        layer: Omnistrate,
        summary: "A `Resource` parameter does not say which service it links to",
        help: "Add `dependentResourceKey: <Service>` naming the service whose instance this parameter links to.",
        fixable: false,
    }
}

impl Rule for ResourceParamWithoutDependentKey {
    fn check(&self, ctx: &Context, sink: &mut Sink) {
        for service in &ctx.spec.services {
            for param in &service.api_params {
                if param.param_type != Some(ParamType::Resource)
                    || present(ctx.tree, param.node, "dependentResourceKey").is_some()
                {
                    continue;
                }
                let Some(written) = &param.type_name else {
                    continue;
                };
                let message = match param.key_str() {
                    Some(key) => {
                        format!("`Resource` parameter `{key}` has no `dependentResourceKey`")
                    }
                    None => "`Resource` parameter has no `dependentResourceKey`".to_owned(),
                };
                sink.at(written.node, message);
            }
        }
    }
}
