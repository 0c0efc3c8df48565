use crate::declare_rule;
use crate::rules::{Context, Rule, Sink};
use crate::syntax::{NodeId, Shape, Tree};

use super::support::present;

declare_rule! {
    /// ## What
    /// A passive resource (`image: omnistrate/noop`) that declares what only
    /// a running workload uses: `ports`, `volumes`, `x-omnistrate-compute`,
    /// `x-omnistrate-storage`, or `autoscaling` / `serverlessConfiguration`
    /// under `x-omnistrate-capabilities`. Empty lists are not reported.
    ///
    /// ## Why
    /// `omnistrate/noop` runs no container: it only holds API parameters
    /// (a parameter group) or ties children together. These settings are
    /// ignored, which usually means the wrong image was written.
    ///
    /// ## Example
    /// ```yaml
    /// ParameterGroup:
    ///   image: omnistrate/noop
    ///   ports:
    ///     - '3306'
    /// ```
    pub struct PassiveResourceWorkload {
        code: "O028",
        name: "passive-resource-workload",
        severity: Warning,
        layer: Omnistrate,
        summary: "A passive `omnistrate/noop` resource declares workload settings",
        help: "Remove the setting, or give the resource a real image if it should run a workload.",
        fixable: false,
    }
}

/// A present value that says something (not null, not an empty list or map).
fn declared(tree: &Tree, map: NodeId, key: &str) -> Option<NodeId> {
    let entry = present(tree, map, key)?;
    let empty = match tree.shape(entry.value) {
        Shape::Sequence => tree.items(entry.value).is_empty(),
        Shape::Mapping => tree.entries(entry.value).is_empty(),
        _ => false,
    };
    (!empty).then_some(entry.key)
}

impl Rule for PassiveResourceWorkload {
    fn check(&self, ctx: &Context, sink: &mut Sink) {
        let tree = ctx.tree;
        for service in &ctx.spec.services {
            if !service.is_passive() {
                continue;
            }
            let mut keys: Vec<NodeId> = [
                "ports",
                "volumes",
                "x-omnistrate-compute",
                "x-omnistrate-storage",
            ]
            .iter()
            .filter_map(|k| declared(tree, service.node, k))
            .collect();
            if let Some(caps) = tree.get_value(service.node, "x-omnistrate-capabilities") {
                keys.extend(
                    ["autoscaling", "serverlessConfiguration"]
                        .iter()
                        .filter_map(|k| declared(tree, caps, k)),
                );
            }
            for key in keys {
                let written = tree.str(key).unwrap_or_default();
                sink.at(
                    key,
                    format!(
                        "`{written}` has no effect on the passive resource `{}`",
                        service.name.value
                    ),
                );
            }
        }
    }
}
