use super::support::suggest;
use crate::declare_rule;
use crate::diagnostic::Fix;
use crate::rules::{Context, Rule, Sink};
use crate::template::RefScope;

declare_rule! {
    /// ## What
    /// A template names a resource (`$<resource>.var.…` / `$<resource>.sys.…`)
    /// that no service has. A service's resource key is its name with the first
    /// letter lower-cased: `Master` → `master`, `ParameterGroup` → `parameterGroup`.
    ///
    /// ## Why
    /// The platform cannot resolve the reference, so the spec is rejected.
    ///
    /// ## Example
    /// ```yaml
    /// Replica:
    ///   environment:
    ///     - MYSQL_MASTER_HOST=$mastr.sys.network.externalClusterEndpoint
    /// ```
    pub struct UnknownResourceReference {
        code: "T001",
        name: "unknown-resource-reference",
        severity: Error,
        layer: Templates,
        summary: "A template references a resource no service defines",
        help: "Use a service's resource key: its name with the first letter lower-cased (`Master` → `master`).",
        fixable: true,
    }
}

impl Rule for UnknownResourceReference {
    fn check(&self, ctx: &Context, sink: &mut Sink) {
        let spec = ctx.spec;
        let keys: Vec<String> = spec.services.iter().map(|s| s.resource_key()).collect();
        for usage in &spec.templates {
            let RefScope::Resource(key) = &usage.reference.scope else {
                continue;
            };
            if spec.service_by_resource_key(key).is_some() {
                continue;
            }
            let span = usage.resource_span.unwrap_or(usage.span);
            let suggestion = suggest(key, keys.iter().map(String::as_str))
                .and_then(|k| spec.service_by_resource_key(k));
            let diagnostic = sink.at_span(
                span,
                Some(usage.node),
                format!("no service has the resource key `{key}`"),
            );
            if let Some(service) = suggestion {
                let target = service.resource_key();
                diagnostic.help(format!(
                    "`{}` is referenced as `${target}`.",
                    service.name.value
                ));
                if ctx.text.get(span.start..span.end) == Some(key.as_str()) {
                    diagnostic.fix(Fix::replace(
                        format!("Did you mean `{}`?", service.name.value),
                        span,
                        target,
                    ));
                }
            } else if !keys.is_empty() {
                let list: Vec<String> = keys.iter().map(|k| format!("`{k}`")).collect();
                diagnostic.help(format!("Known resource keys: {}.", list.join(", ")));
            }
        }
    }
}
