use crate::declare_rule;
use crate::rules::{Context, Rule, Sink};

use super::support::{first_key, present};

declare_rule! {
    /// ## What
    /// An API parameter without a `key` or without a `type`.
    ///
    /// ## Why
    /// The key names the parameter (`$var.<key>`, `apiParam`,
    /// `replicaCountAPIParam`) and the type decides how its value is checked
    /// and shown; the platform's API requires both. (`name` and
    /// `description` are required by the REST API too but are not reported:
    /// the compose path fills them in.)
    ///
    /// ## Example
    /// ```yaml
    /// x-omnistrate-api-params:
    ///   - key: mysqlUsername
    ///     name: Username       # no `type`
    /// ```
    pub struct ApiParamMissingField {
        code: "O011",
        name: "api-param-missing-field",
        severity: Error,
        layer: Omnistrate,
        summary: "An API parameter has no `key` or no `type`",
        help: "Give every API parameter a `key` and a `type` (e.g. `type: String`).",
        fixable: false,
    }
}

impl Rule for ApiParamMissingField {
    fn check(&self, ctx: &Context, sink: &mut Sink) {
        let tree = ctx.tree;
        for service in &ctx.spec.services {
            for param in &service.api_params {
                let at = first_key(tree, param.node).unwrap_or(param.node);
                if present(tree, param.node, "key").is_none() {
                    sink.at(at, "API parameter has no `key`")
                        .help("Add a `key`, unique on this service, such as `key: instanceType`.");
                }
                if present(tree, param.node, "type").is_none() {
                    let message = match param.key_str() {
                        Some(key) => format!("API parameter `{key}` has no `type`"),
                        None => "API parameter has no `type`".to_owned(),
                    };
                    sink.at(at, message);
                }
            }
        }
    }
}
