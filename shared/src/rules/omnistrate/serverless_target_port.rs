use std::collections::BTreeSet;

use crate::declare_rule;
use crate::model::PortRange;
use crate::rules::{Context, Rule, Sink};

use super::support::{fmt_number, object_anchor, present, replace_plain};

declare_rule! {
    /// ## What
    /// A `serverlessConfiguration` without `targetPort`, or whose
    /// `targetPort` is not one of the service's container ports (`ports:`
    /// targets). Passive `omnistrate/noop` resources are left to
    /// `passive-resource-workload`.
    ///
    /// ## Why
    /// The always-on serverless proxy forwards client connections to
    /// `targetPort` and wakes the backend on the first one; a port the
    /// container does not listen on means every connection fails.
    ///
    /// ## Example
    /// ```yaml
    /// ports:
    ///   - '3306'
    /// x-omnistrate-capabilities:
    ///   serverlessConfiguration:
    ///     targetPort: 5432   # 3306
    /// ```
    pub struct ServerlessTargetPort {
        code: "O026",
        name: "serverless-target-port",
        severity: Error,
        layer: Omnistrate,
        summary: "The serverless `targetPort` is missing or not a port of the service",
        help: "Set `targetPort` to the container port clients connect to, and list it under `ports:`.",
        fixable: true,
    }
}

impl Rule for ServerlessTargetPort {
    fn check(&self, ctx: &Context, sink: &mut Sink) {
        let tree = ctx.tree;
        for service in &ctx.spec.services {
            if service.is_passive() {
                continue;
            }
            let Some(serverless) = service
                .capabilities
                .as_ref()
                .and_then(|c| c.serverless.as_ref())
            else {
                continue;
            };
            let name = &service.name.value;
            if present(tree, serverless.node, "targetPort").is_none() {
                sink.at(
                    object_anchor(tree, serverless.node),
                    "`serverlessConfiguration` has no `targetPort`",
                );
                continue;
            }
            // A value of the wrong type is `omnistrate-field-type`'s.
            let Some(port) = &serverless.target_port else {
                continue;
            };
            let wanted = (port.value.fract() == 0.0 && (0.0..=65535.0).contains(&port.value))
                .then_some(port.value as u32);
            if wanted.is_some_and(|p| service.container_ports().any(|c| c == p)) {
                continue;
            }
            let shown = fmt_number(port.value);
            let diagnostic = sink.at(
                port.node,
                format!("`targetPort` {shown} is not a container port of `{name}`"),
            );
            let targets: Vec<PortRange> = service.ports.iter().filter_map(|p| p.target).collect();
            // `8080:80` with `targetPort: 8080`: the published port was meant.
            let published = wanted.and_then(|p| {
                service.ports.iter().find_map(|entry| {
                    let (host, target) = (entry.published?, entry.target?);
                    let offset = p.checked_sub(host.start).filter(|_| p <= host.end)?;
                    let container = target.start + offset;
                    (container <= target.end).then_some(container)
                })
            });
            if let Some(container) = published {
                diagnostic.help(format!(
                    "{shown} is a published (host) port; the proxy forwards to the container port {container}."
                ));
            } else if targets.is_empty() {
                diagnostic.help(format!(
                    "`{name}` declares no `ports`; add the port clients connect to."
                ));
            } else {
                let list: Vec<String> = targets.iter().map(|r| show_range(*r)).collect();
                let list = dedup(list);
                let listed = if list.len() == 1 && targets.iter().all(|r| r.start == r.end) {
                    format!(
                        "`{name}` listens on {}; use it, or add {shown} to `ports`.",
                        list[0]
                    )
                } else {
                    format!(
                        "`{name}` declares {}; use one of them, or add {shown} to `ports`.",
                        list.join(", ")
                    )
                };
                diagnostic.help(listed);
            }
            let distinct: BTreeSet<u32> = service.container_ports().collect();
            let to = published.or_else(|| match distinct.len() {
                1 => distinct.first().copied(),
                _ => None,
            });
            if let Some(to) = to {
                let to = to.to_string();
                if let Some(fix) = replace_plain(tree, port.node, format!("Change to `{to}`"), &to)
                {
                    diagnostic.fix(fix);
                }
            }
        }
    }
}

fn show_range(range: PortRange) -> String {
    if range.start == range.end {
        range.start.to_string()
    } else {
        format!("{}-{}", range.start, range.end)
    }
}

fn dedup(list: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for item in list {
        if !out.contains(&item) {
            out.push(item);
        }
    }
    out
}
