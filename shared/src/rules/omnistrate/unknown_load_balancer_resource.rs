use crate::declare_rule;
use crate::model::keys::did_you_mean;
use crate::rules::{Context, Rule, Sink};
use crate::syntax::{NodeId, Shape};

declare_rule! {
    /// ## What
    /// An `x-omnistrate-load-balancer` route whose `associatedResourceKey`
    /// (HTTPS paths) or `associatedResourceKeys` (TCP ports) names no
    /// service of the spec, by resource key (`Master` → `master`) or name.
    ///
    /// ## Why
    /// The load balancer sends traffic to the named resources; a name that
    /// matches none leaves the route without a backend.
    ///
    /// ## Example
    /// ```yaml
    /// x-omnistrate-load-balancer:
    ///   https:
    ///     - name: frontend
    ///       paths:
    ///         - associatedResourceKey: contoller   # controller
    ///           path: /
    ///           backendPort: 3000
    /// ```
    pub struct UnknownLoadBalancerResource {
        code: "O030",
        name: "unknown-load-balancer-resource",
        severity: Error,
        layer: Omnistrate,
        summary: "A load-balancer route names no service",
        help: "Name a service by its resource key (its name with the first letter lower-cased).",
        fixable: false,
    }
}

impl Rule for UnknownLoadBalancerResource {
    fn check(&self, ctx: &Context, sink: &mut Sink) {
        let (tree, spec) = (ctx.tree, ctx.spec);
        let Some(lb) = spec
            .root
            .and_then(|r| tree.get_value(r, "x-omnistrate-load-balancer"))
        else {
            return;
        };
        if spec.include.is_some() {
            return;
        }
        let mut names: Vec<NodeId> = Vec::new();
        for (kind, routes, key) in [
            ("https", "paths", "associatedResourceKey"),
            ("tcp", "ports", "associatedResourceKeys"),
        ] {
            let Some(list) = tree.get_value(lb, kind) else {
                continue;
            };
            for balancer in tree.items(list) {
                let Some(routes) = tree.get_value(*balancer, routes) else {
                    continue;
                };
                for route in tree.items(routes) {
                    let Some(value) = tree.get_value(*route, key) else {
                        continue;
                    };
                    match tree.shape(value) {
                        Shape::Scalar => names.push(value),
                        Shape::Sequence => names.extend(tree.items(value).iter().copied()),
                        _ => {}
                    }
                }
            }
        }
        for node in names {
            let Some(name) = tree.str(node).filter(|_| tree.shape(node) == Shape::Scalar) else {
                continue;
            };
            let known = spec.service_by_resource_key(name).is_some()
                || spec.service(name).is_some()
                || spec
                    .services
                    .iter()
                    .any(|s| s.name.value.eq_ignore_ascii_case(name));
            if known || crate::interpolation::needs_interpolation(name) {
                continue;
            }
            let d = sink.at(
                node,
                format!("load balancer route names unknown resource `{name}`"),
            );
            let keys: Vec<String> = spec.services.iter().map(|s| s.resource_key()).collect();
            if let Some(s) = did_you_mean(name, keys.iter().map(String::as_str)) {
                d.help(format!("Did you mean `{s}`?"));
            }
        }
    }
}
