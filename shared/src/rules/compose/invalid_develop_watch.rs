use crate::declare_rule;
use crate::rules::{Context, Rule, Sink};
use crate::syntax::Shape;

declare_rule! {
    /// ## What
    /// A `develop.watch` entry without `path` or `action`, or with an
    /// `action` other than `sync`, `rebuild`, `restart`, `sync+restart` or
    /// `sync+exec`.
    ///
    /// ## Why
    /// Compose cannot tell what to watch or what to do on a change and
    /// refuses the file.
    ///
    /// ## Example
    /// ```yaml
    /// services:
    ///   web:
    ///     build: .
    ///     develop:
    ///       watch:
    ///         - path: ./src      # no action
    /// ```
    pub struct InvalidDevelopWatch {
        code: "C020",
        name: "invalid-develop-watch",
        severity: Error,
        layer: Compose,
        summary: "A `develop.watch` entry lacks `path`/`action` or names an unknown action",
        help: "Give each entry a `path` and an `action`: sync, rebuild, restart, sync+restart or sync+exec.",
        fixable: false,
    }
}

const ACTIONS: &[&str] = &["sync", "rebuild", "restart", "sync+restart", "sync+exec"];

impl Rule for InvalidDevelopWatch {
    fn check(&self, ctx: &Context, sink: &mut Sink) {
        let tree = ctx.tree;
        for service in &ctx.spec.services {
            let Some(watch) = tree
                .get_value(service.node, "develop")
                .and_then(|d| tree.get_value(d, "watch"))
            else {
                continue;
            };
            for item in tree.items(watch) {
                if tree.shape(*item) != Shape::Mapping {
                    continue;
                }
                for key in ["path", "action"] {
                    if tree
                        .get_value(*item, key)
                        .is_none_or(|n| tree.shape(n) == Shape::Null)
                    {
                        let span =
                            crate::rules::compose::support::first_line(ctx.text, tree.span(*item));
                        sink.at_span(
                            span,
                            Some(*item),
                            format!("a `develop.watch` entry needs `{key}`"),
                        );
                    }
                }
                if let Some(action) = tree.get_value(*item, "action") {
                    if let Some(name) = tree
                        .str(action)
                        .filter(|_| tree.shape(action) == Shape::Scalar)
                    {
                        if !ACTIONS.contains(&name) {
                            sink.at(action, format!("unknown watch action `{name}`"));
                        }
                    }
                }
            }
        }
    }
}
