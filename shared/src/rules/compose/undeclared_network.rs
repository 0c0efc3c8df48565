use std::collections::HashSet;

use super::support;
use crate::declare_rule;
use crate::rules::{Context, IncludedKind, Rule, Sink};
use crate::syntax::Shape;

declare_rule! {
    /// ## What
    /// A service joins a network that the top-level `networks:` does not
    /// declare. The `default` network always exists.
    ///
    /// ## Why
    /// Compose refuses a network it does not know; usually the name is
    /// misspelt or the top-level declaration was forgotten.
    ///
    /// ## Example
    /// ```yaml
    /// services:
    ///   Web:
    ///     image: nginx
    ///     networks:
    ///       - frontnd        # did you mean `frontend`?
    /// networks:
    ///   frontend:
    /// ```
    pub struct UndeclaredNetwork {
        code: "C008",
        name: "undeclared-network",
        severity: Error,
        layer: Compose,
        summary: "A service network is not declared under top-level `networks`",
        help: "Declare it under the top-level `networks:` key, or remove it to use the `default` network.",
        fixable: true,
    }
}

impl Rule for UndeclaredNetwork {
    fn check(&self, ctx: &Context, sink: &mut Sink) {
        let (tree, spec) = (ctx.tree, ctx.spec);
        let Some(root) = spec.root else { return };
        // A top-level `networks` of the wrong shape is C011's; do not pile on.
        if tree
            .get_value(root, "networks")
            .is_some_and(|v| !matches!(tree.shape(v), Shape::Mapping | Shape::Null))
        {
            return;
        }
        let declared: HashSet<&str> = spec.networks.iter().map(|n| n.value.as_str()).collect();
        let mut suggester = support::Suggester::new(spec.networks.iter().map(|n| n.value.as_str()));
        for service in &spec.services {
            let listed: HashSet<&str> = service.networks.iter().map(|n| n.value.as_str()).collect();
            for network in &service.networks {
                let name = network.value.as_str();
                if name == "default"
                    || support::is_interpolated(name)
                    || declared.contains(name)
                    || ctx.maybe_included(IncludedKind::Network, name)
                {
                    continue;
                }
                let span = support::token_span(tree, network.node);
                let diagnostic = sink.at_span(
                    span,
                    Some(network.node),
                    format!("network `{name}` is not declared in top-level `networks`"),
                );
                if let Some(suggestion) = suggester.suggest(name, None) {
                    diagnostic.help(format!(
                        "Did you mean `{suggestion}`? Otherwise declare `{name}` under the top-level `networks:` key."
                    ));
                    if !listed.contains(suggestion) {
                        if let Some(fix) = support::rename(ctx.text, span, name, suggestion) {
                            diagnostic.fix(fix);
                        }
                    }
                }
            }
        }
    }
}
