use super::support::{param_keys, suggest_declared_key};
use crate::declare_rule;
use crate::rules::{Context, Rule, Sink};
use crate::template::{RefKind, RefScope};

declare_rule! {
    /// ## What
    /// `$var.X` names a parameter that the service holding the value does not
    /// declare in its own `x-omnistrate-api-params`. (A service without
    /// `x-omnistrate-api-params` exposes its environment variables as parameters.)
    ///
    /// ## Why
    /// `$var.…` only reads the parameters of the same resource; the value cannot
    /// be resolved and the spec is rejected.
    ///
    /// ## Example
    /// ```yaml
    /// Master:
    ///   environment:
    ///     - MYSQL_ROOT_PASSWORD=$var.rootPasword
    ///   x-omnistrate-api-params:
    ///     - key: rootPassword
    /// ```
    pub struct UnknownParameter {
        code: "T003",
        name: "unknown-parameter",
        severity: Error,
        layer: Templates,
        summary: "`$var.X` references a parameter this service does not declare",
        help: "Declare the parameter in this service's `x-omnistrate-api-params`, or use `$<resource>.var.X` for another service's parameter.",
        fixable: true,
    }
}

impl Rule for UnknownParameter {
    fn check(&self, ctx: &Context, sink: &mut Sink) {
        for usage in &ctx.spec.templates {
            if usage.reference.scope != RefScope::This || usage.reference.kind != RefKind::Var {
                continue;
            }
            let service = &ctx.spec.services[usage.service];
            let known = param_keys(service);
            let param = usage.reference.path.as_str();
            if known.contains(&param) {
                continue;
            }
            let name = &service.name.value;
            let diagnostic = sink.at_span(
                usage.span,
                Some(usage.node),
                format!("`{name}` has no parameter `{param}`"),
            );
            let owners: Vec<&str> = ctx
                .spec
                .services
                .iter()
                .filter(|s| s.param(param).is_some())
                .map(|s| s.name.value.as_str())
                .collect();
            if let [owner] = owners.as_slice() {
                // Declared elsewhere: a cross-resource reference was meant.
                let key = crate::template::resource_key(owner);
                diagnostic.help(format!(
                    "`{owner}` declares `{param}`: reference it as `${key}.var.{param}` (and link `{owner}`), or declare it on `{name}`."
                ));
            } else {
                suggest_declared_key(ctx, usage, diagnostic, name, param, &known);
            }
        }
    }
}
