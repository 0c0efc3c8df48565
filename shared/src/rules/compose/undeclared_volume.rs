use std::collections::HashSet;

use super::support;
use crate::declare_rule;
use crate::model::MountKind;
use crate::rules::{Context, IncludedKind, Rule, Sink};
use crate::syntax::Shape;

declare_rule! {
    /// ## What
    /// A service mounts a named volume (`data:/var/lib/mysql`) that the
    /// top-level `volumes:` does not declare. Host paths (`./data`, `/srv`)
    /// and anonymous volumes (a target only) need no declaration.
    ///
    /// ## Why
    /// Compose refuses a named volume it does not know; often the name is
    /// misspelt, or a host path lost its `./`.
    ///
    /// ## Example
    /// ```yaml
    /// services:
    ///   Master:
    ///     image: mysql:8
    ///     volumes:
    ///       - mysql-dat:/var/lib/mysql   # did you mean `mysql-data`?
    /// volumes:
    ///   mysql-data:
    /// ```
    pub struct UndeclaredVolume {
        code: "C007",
        name: "undeclared-volume",
        severity: Error,
        layer: Compose,
        summary: "A named volume is not declared under top-level `volumes`",
        help: "Declare it under the top-level `volumes:` key, or write a host path (`./data`) for a bind mount.",
        fixable: true,
    }
}

impl Rule for UndeclaredVolume {
    fn check(&self, ctx: &Context, sink: &mut Sink) {
        let (tree, spec) = (ctx.tree, ctx.spec);
        let Some(root) = spec.root else { return };
        // A top-level `volumes` of the wrong shape is C011's; do not pile on.
        if tree
            .get_value(root, "volumes")
            .is_some_and(|v| !matches!(tree.shape(v), Shape::Mapping | Shape::Null))
        {
            return;
        }
        let declared: HashSet<&str> = spec.volumes.iter().map(|v| v.value.as_str()).collect();
        let mut suggester = support::Suggester::new(spec.volumes.iter().map(|v| v.value.as_str()));
        for service in &spec.services {
            for mount in &service.volumes {
                if mount.kind != MountKind::Volume {
                    continue;
                }
                let Some(source) = &mount.source else {
                    continue;
                };
                let name = source.value.as_str();
                if name.is_empty()
                    || support::is_interpolated(name)
                    || name.starts_with(['.', '/', '~'])
                    || declared.contains(name)
                    || ctx.maybe_included(IncludedKind::Volume, name)
                {
                    continue;
                }
                let span = if source.span.is_empty() {
                    tree.span(source.node)
                } else {
                    source.span
                };
                let diagnostic = sink.at_span(
                    span,
                    Some(source.node),
                    format!("volume `{name}` is not declared in top-level `volumes`"),
                );
                if let Some(suggestion) = suggester.suggest(name, None) {
                    diagnostic.help(format!(
                        "Did you mean `{suggestion}`? Otherwise declare `{name}` under the top-level `volumes:` key."
                    ));
                    if let Some(fix) = support::rename(ctx.text, span, name, suggestion) {
                        diagnostic.fix(fix);
                    }
                }
            }
        }
    }
}
