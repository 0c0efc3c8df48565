use crate::declare_rule;
use crate::model::{ApiParam, ParamType};
use crate::rules::{Context, Rule, Sink};
use crate::syntax::NodeId;

declare_rule! {
    /// ## What
    /// An API parameter field that only means something for other parameter
    /// types: `dependentResourceKey` on a type other than `Resource`;
    /// `limits.min`/`max` on a non-numeric type, `limits.minLength`/
    /// `maxLength` on a numeric one, `limits` on `Boolean` or `Resource`;
    /// `options`/`labeledOptions` on `Boolean`, `Resource`, `Password` or
    /// `Secret`; `regex` on a number, a boolean or a resource.
    ///
    /// ## Why
    /// The platform ignores (or rejects) such a field: the author meant a
    /// different type, or a constraint that will never apply. A warning,
    /// since whether the upload rejects it is not documented.
    ///
    /// ## Example
    /// ```yaml
    /// x-omnistrate-api-params:
    ///   - key: replicas
    ///     type: String
    ///     limits: {min: 1, max: 5}    # min/max bound numbers: use Float64
    /// ```
    pub struct FieldNotForType {
        code: "O029",
        name: "api-param-field-not-for-type",
        severity: Warning,
        layer: Omnistrate,
        summary: "An API parameter field does not apply to its type",
        help: "Change the parameter's `type`, or remove the field.",
        fixable: false,
    }
}

fn key_node(ctx: &Context, param: &ApiParam, key: &str) -> Option<NodeId> {
    ctx.tree.get(param.node, key).map(|e| e.key)
}

impl Rule for FieldNotForType {
    fn check(&self, ctx: &Context, sink: &mut Sink) {
        use ParamType::*;
        for service in &ctx.spec.services {
            for param in &service.api_params {
                let Some(ty) = param.param_type else { continue };
                let ty_name = ty.name();
                let mut flag = |node: Option<NodeId>, what: &str| {
                    if let Some(node) = node {
                        sink.at(
                            node,
                            format!("`{what}` does not apply to a `{ty_name}` parameter"),
                        );
                    }
                };
                if ty != Resource {
                    flag(
                        key_node(ctx, param, "dependentResourceKey"),
                        "dependentResourceKey",
                    );
                }
                if let Some(limits) = &param.limits {
                    if matches!(ty, Boolean | Resource) {
                        flag(key_node(ctx, param, "limits"), "limits");
                    } else if ty.is_numeric() {
                        flag(limits.min_length.as_ref().map(|l| l.node), "minLength");
                        flag(limits.max_length.as_ref().map(|l| l.node), "maxLength");
                    } else if !matches!(ty, Any | Json | Bytes) {
                        flag(limits.min.as_ref().map(|l| l.node), "min");
                        flag(limits.max.as_ref().map(|l| l.node), "max");
                    }
                }
                if matches!(ty, Boolean | Resource | Password | Secret) {
                    flag(
                        param
                            .options_node
                            .and_then(|_| key_node(ctx, param, "options")),
                        "options",
                    );
                    flag(
                        param
                            .labeled_options
                            .and_then(|_| key_node(ctx, param, "labeledOptions")),
                        "labeledOptions",
                    );
                }
                if ty.is_numeric() || matches!(ty, Boolean | Resource) {
                    flag(
                        param
                            .regex
                            .as_ref()
                            .and_then(|_| key_node(ctx, param, "regex")),
                        "regex",
                    );
                }
            }
        }
    }
}
