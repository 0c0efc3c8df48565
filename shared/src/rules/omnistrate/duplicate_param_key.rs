use std::collections::HashMap;

use crate::declare_rule;
use crate::rules::{Context, Rule, Sink};

declare_rule! {
    /// ## What
    /// Two API parameters of one service with the same `key`.
    ///
    /// ## Why
    /// Keys are unique per resource: `$var.<key>` and `apiParam` could not
    /// tell the two apart, and the platform rejects the second one.
    /// (The same key on different services is fine: the seed's
    /// `parameterGroupId`.)
    ///
    /// ## Example
    /// ```yaml
    /// x-omnistrate-api-params:
    ///   - key: instanceType
    ///     type: String
    ///   - key: instanceType
    ///     type: String
    /// ```
    pub struct DuplicateApiParamKey {
        code: "O012",
        name: "duplicate-api-param-key",
        severity: Error,
        layer: Omnistrate,
        summary: "Two API parameters of one service share a key",
        help: "Rename or remove one of them; keys must be unique per service.",
        fixable: false,
    }
}

impl Rule for DuplicateApiParamKey {
    fn check(&self, ctx: &Context, sink: &mut Sink) {
        for service in &ctx.spec.services {
            let mut seen = HashMap::new();
            for param in &service.api_params {
                let Some(key) = &param.key else { continue };
                match seen.get(key.value.as_str()) {
                    None => {
                        seen.insert(key.value.as_str(), key.span);
                    }
                    Some(first) => {
                        sink.at(
                            key.node,
                            format!("duplicate API parameter key `{}`", key.value),
                        )
                        .related(*first, "first declared here");
                    }
                }
            }
        }
    }
}
