use super::support::{param_keys, suggest_declared_key};
use crate::declare_rule;
use crate::rules::{Context, Rule, Sink};
use crate::template::{RefKind, RefScope};

declare_rule! {
    /// ## What
    /// `$<resource>.var.X` names a parameter that the referenced service does not
    /// declare in its `x-omnistrate-api-params`.
    ///
    /// ## Why
    /// The value cannot be resolved, so the spec is rejected.
    ///
    /// ## Example
    /// ```yaml
    /// Master:
    ///   environment:
    ///     - MYSQL_PASSWORD=$parameterGroup.var.mysqlPasword
    /// ParameterGroup:
    ///   image: omnistrate/noop
    ///   x-omnistrate-api-params:
    ///     - key: mysqlPassword
    /// ```
    pub struct UnknownResourceParameter {
        code: "T002",
        name: "unknown-resource-parameter",
        severity: Error,
        layer: Templates,
        summary: "A template references a parameter the other resource does not declare",
        help: "Use a key from that service's `x-omnistrate-api-params`, or declare the parameter there.",
        fixable: true,
    }
}

impl Rule for UnknownResourceParameter {
    fn check(&self, ctx: &Context, sink: &mut Sink) {
        for usage in &ctx.spec.templates {
            let RefScope::Resource(key) = &usage.reference.scope else {
                continue;
            };
            if usage.reference.kind != RefKind::Var {
                continue;
            }
            let Some(target) = ctx.spec.service_by_resource_key(key) else {
                continue;
            };
            let known = param_keys(target);
            let param = usage.reference.path.as_str();
            if known.contains(&param) {
                continue;
            }
            let name = &target.name.value;
            let diagnostic = sink.at_span(
                usage.span,
                Some(usage.node),
                format!("`{name}` has no parameter `{param}`"),
            );
            if !suggest_declared_key(ctx, usage, diagnostic, name, param, &known) {
                diagnostic.help(format!(
                    "Add `{param}` to `{name}`'s `x-omnistrate-api-params`, or use one of its keys."
                ));
            }
        }
    }
}
