use std::collections::HashSet;

use super::support;
use crate::declare_rule;
use crate::rules::{Context, IncludedKind, Rule, Sink};

declare_rule! {
    /// ## What
    /// A `depends_on` entry that names no service of the spec, or the
    /// service itself.
    ///
    /// ## Why
    /// `depends_on` orders provisioning; a name that matches nothing (often a
    /// case or spelling slip: `master` for `Master`) is rejected at upload,
    /// and a service cannot wait for itself.
    ///
    /// ## Example
    /// ```yaml
    /// services:
    ///   Master:
    ///     image: mysql:8
    ///   Replica:
    ///     image: mysql:8
    ///     depends_on:
    ///       - master        # did you mean `Master`?
    /// ```
    pub struct UnknownDependsOn {
        code: "C006",
        name: "unknown-depends-on",
        severity: Error,
        layer: Compose,
        summary: "`depends_on` names a service that does not exist",
        help: "Name a service defined under `services:` (names are case-sensitive).",
        fixable: true,
    }
}

impl Rule for UnknownDependsOn {
    fn check(&self, ctx: &Context, sink: &mut Sink) {
        let spec = ctx.spec;
        let mut suggester =
            support::Suggester::new(spec.services.iter().map(|s| s.name.value.as_str()));
        for service in &spec.services {
            let own = service.name.value.as_str();
            let listed: HashSet<&str> = service
                .depends_on
                .iter()
                .map(|d| d.service.value.as_str())
                .collect();
            for dep in &service.depends_on {
                let target = dep.service.value.as_str();
                let span = support::token_span(ctx.tree, dep.service.node);
                if target == own {
                    sink.at_span(
                        span,
                        Some(dep.service.node),
                        format!("service `{own}` depends on itself"),
                    )
                    .help("Remove this entry: a service cannot wait for itself.");
                    continue;
                }
                // A service from an `include`d file (given or unknown).
                if spec.service(target).is_some()
                    || ctx.maybe_included(IncludedKind::Service, target)
                {
                    continue;
                }
                let diagnostic = sink.at_span(
                    span,
                    Some(dep.service.node),
                    format!("`depends_on` names unknown service `{target}`"),
                );
                if let Some(suggestion) = suggester.suggest(target, Some(own)) {
                    diagnostic.help(format!("Did you mean `{suggestion}`?"));
                    if !listed.contains(suggestion) {
                        if let Some(fix) = support::rename(ctx.text, span, target, suggestion) {
                            diagnostic.fix(fix);
                        }
                    }
                }
            }
        }
    }
}
