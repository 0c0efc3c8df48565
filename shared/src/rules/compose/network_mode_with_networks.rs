use super::support;
use crate::declare_rule;
use crate::rules::{Context, Rule, Sink};
use crate::syntax::Shape;

declare_rule! {
    /// ## What
    /// A service that sets both `network_mode` and `networks`.
    ///
    /// ## Why
    /// The two are mutually exclusive: `network_mode` (`host`, `none`,
    /// `service:NAME`…) replaces the service's networking, so compose refuses
    /// the file ("declares mutually exclusive `network_mode` and `networks`").
    ///
    /// ## Example
    /// ```yaml
    /// services:
    ///   web:
    ///     image: nginx
    ///     network_mode: host
    ///     networks: [front]
    /// ```
    pub struct NetworkModeWithNetworks {
        code: "C017",
        name: "network-mode-with-networks",
        severity: Error,
        layer: Compose,
        summary: "A service sets both `network_mode` and `networks`",
        help: "Keep one of them: `network_mode` for host/none/another service's stack, `networks` to join networks.",
        fixable: false,
    }
}

impl Rule for NetworkModeWithNetworks {
    fn check(&self, ctx: &Context, sink: &mut Sink) {
        let tree = ctx.tree;
        for service in &ctx.spec.services {
            let (Some(mode), Some(networks)) = (
                tree.get(service.node, "network_mode"),
                tree.get(service.node, "networks"),
            ) else {
                continue;
            };
            if tree.shape(networks.value) == Shape::Null || tree.shape(mode.value) == Shape::Null {
                continue;
            }
            sink.at_span(
                support::token_span(tree, networks.key),
                Some(networks.key),
                format!(
                    "service `{}` sets `networks` and `network_mode`",
                    service.name.value
                ),
            )
            .related(tree.span(mode.key), "`network_mode` set here");
        }
    }
}
