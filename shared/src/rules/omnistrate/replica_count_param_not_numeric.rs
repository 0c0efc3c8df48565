use crate::declare_rule;
use crate::rules::{Context, Rule, Sink};

use super::support::span_of;

declare_rule! {
    /// ## What
    /// `replicaCountAPIParam` names an API parameter whose type is not
    /// numeric (an `Int…`, `Uint…` or `Float…` type; the seed's `Float64`
    /// is fine).
    ///
    /// ## Why
    /// The replica count is read as a number from the parameter's value; a
    /// `String` or `Boolean` parameter lets customers enter values that
    /// cannot be a count.
    ///
    /// ## Example
    /// ```yaml
    /// x-omnistrate-compute:
    ///   replicaCountAPIParam: numReadReplicas
    /// x-omnistrate-api-params:
    ///   - key: numReadReplicas
    ///     type: String   # Int64 or Float64
    /// ```
    pub struct ReplicaCountParamNotNumeric {
        code: "O021",
        name: "replica-count-param-not-numeric",
        severity: Error,
        layer: Omnistrate,
        summary: "The replica-count API parameter is not numeric",
        help: "Give the parameter a numeric type such as `Int64` or `Float64`.",
        fixable: false,
    }
}

impl Rule for ReplicaCountParamNotNumeric {
    fn check(&self, ctx: &Context, sink: &mut Sink) {
        for service in &ctx.spec.services {
            let Some(reference) = service
                .compute
                .as_ref()
                .and_then(|c| c.replica_count_api_param.as_ref())
            else {
                continue;
            };
            let Some(param) = service.param(&reference.value) else {
                continue;
            };
            let (Some(ty), Some(written)) = (param.param_type, &param.type_name) else {
                continue;
            };
            if ty.is_numeric() {
                continue;
            }
            sink.at(
                reference.node,
                format!(
                    "replica count parameter `{}` has type `{}`; it must be numeric",
                    reference.value, written.value
                ),
            )
            .related(span_of(ctx.tree, written.node), "type declared here");
        }
    }
}
