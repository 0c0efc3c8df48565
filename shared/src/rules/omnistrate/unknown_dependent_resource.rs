use crate::declare_rule;
use crate::model::keys::did_you_mean;
use crate::rules::{Context, Rule, Sink};

use super::support::{replace_text, service_names};

declare_rule! {
    /// ## What
    /// A `dependentResourceKey` that names no service of the spec, or names
    /// the parameter's own service. Names are matched exactly, as written
    /// under `services:`; a name that differs only in case (`master` for
    /// `Master`) is reported with a fix.
    ///
    /// ## Why
    /// The link tells the platform which existing instance the customer must
    /// pick, and orders creation bottom-up: a link to nothing cannot be
    /// satisfied, and a resource cannot be created after itself.
    ///
    /// ## Example
    /// ```yaml
    /// - key: masterInstanceId
    ///   type: Resource
    ///   dependentResourceKey: Mastr   # Master
    /// ```
    pub struct UnknownDependentResource {
        code: "O019",
        name: "unknown-dependent-resource",
        severity: Error,
        layer: Omnistrate,
        summary: "`dependentResourceKey` names no other service",
        help: "Name another service of this spec exactly as written under `services:`.",
        fixable: true,
    }
}

impl Rule for UnknownDependentResource {
    fn check(&self, ctx: &Context, sink: &mut Sink) {
        for service in &ctx.spec.services {
            let own = service.name.value.as_str();
            for param in &service.api_params {
                let Some(target) = &param.dependent_resource_key else {
                    continue;
                };
                let name = target.value.as_str();
                // A case-only match of its own name is a self-link, unless
                // another service has that spelling (looked for only then:
                // a scan per param would be quadratic in large specs).
                let self_link = name == own
                    || (name.eq_ignore_ascii_case(own)
                        && !ctx.spec.services.iter().any(|s| {
                            s.name.value != own && s.name.value.eq_ignore_ascii_case(name)
                        }));
                if self_link {
                    sink.at(target.node, format!("`{own}` cannot link to itself"))
                        .help("Name the service whose existing instance this parameter refers to.");
                    continue;
                }
                if ctx.spec.service(name).is_some() {
                    continue;
                }
                let suggestion = did_you_mean(name, service_names(ctx).filter(|s| *s != own));
                let case_only = suggestion.is_some_and(|s| s.eq_ignore_ascii_case(name));
                let message = if case_only {
                    format!("no service named `{name}` (names are case-sensitive)")
                } else {
                    format!("no service named `{name}`")
                };
                let diagnostic = sink.at(target.node, message);
                if let Some(service) = ctx.spec.service_by_resource_key(name) {
                    diagnostic.help(format!(
                        "`{name}` is the template resource key of `{}`; `dependentResourceKey` takes the service name.",
                        service.name.value
                    ));
                }
                if let Some(suggestion) = suggestion {
                    diagnostic.fix(replace_text(
                        ctx.tree,
                        target.node,
                        format!("Did you mean `{suggestion}`?"),
                        suggestion,
                    ));
                }
            }
        }
    }
}
