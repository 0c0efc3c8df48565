use crate::declare_rule;
use crate::rules::{Context, Rule, Sink};
use crate::template::RefScope;

declare_rule! {
    /// ## What
    /// A service references another resource (`$<resource>.var.…` /
    /// `$<resource>.sys.…`) without linking to it: no api-param of type
    /// `Resource` with `dependentResourceKey: <Service>`, and no `depends_on`.
    ///
    /// ## Why
    /// The referenced resource must exist (and be known to this one) before the
    /// value can be resolved; without a link or a dependency the platform has
    /// no instance to read it from.
    ///
    /// ## Example
    /// ```yaml
    /// Replica:
    ///   environment:
    ///     - MYSQL_MASTER_HOST=$master.sys.network.internalClusterEndpoint
    ///   # missing: a Resource param with dependentResourceKey: Master
    /// ```
    pub struct ReferenceWithoutLink {
        code: "T008",
        name: "reference-without-link",
        severity: Warning,
        layer: Templates,
        summary: "A service references another resource it does not link to or depend on",
        help: "Add an api-param of type `Resource` with `dependentResourceKey` naming the service, or list it under `depends_on`.",
        fixable: false,
    }
}

impl Rule for ReferenceWithoutLink {
    fn check(&self, ctx: &Context, sink: &mut Sink) {
        let spec = ctx.spec;
        for usage in &spec.templates {
            let RefScope::Resource(key) = &usage.reference.scope else {
                continue;
            };
            let Some(target) = spec.service_by_resource_key(key) else {
                continue;
            };
            let service = &spec.services[usage.service];
            let to = &target.name.value;
            if to == &service.name.value {
                continue;
            }
            let linked = service.api_params.iter().any(|p| {
                p.dependent_resource_key
                    .as_ref()
                    .is_some_and(|d| &d.value == to)
            });
            let depends = service.depends_on.iter().any(|d| &d.service.value == to);
            if linked || depends {
                continue;
            }
            sink.at_span(
                usage.span,
                Some(usage.node),
                format!(
                    "`{}` references `{to}` but neither links to it nor depends on it",
                    service.name.value
                ),
            )
            .help(format!(
                "Add an api-param `{{type: Resource, dependentResourceKey: {to}}}` to `{}`, or list `{to}` under its `depends_on`.",
                service.name.value
            ));
        }
    }
}
