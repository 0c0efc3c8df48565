use crate::declare_rule;
use crate::docker_verdicts::RESERVED_LABEL_PREFIX;
use crate::rules::{Context, Rule, Sink};
use crate::syntax::Shape;

declare_rule! {
    /// ## What
    /// A service label in the `org.specstudio.` namespace.
    ///
    /// ## Why
    /// The server marks every Docker object it owns with these labels (which
    /// deployment, which data dir, which config); a spec that set them could
    /// make the server adopt, repair or delete objects that are not its own.
    /// The server refuses such a spec (`422`); the editor warns (the file is
    /// valid compose).
    ///
    /// ## Example
    /// ```yaml
    /// services:
    ///   Web:
    ///     image: nginx
    ///     labels:
    ///       org.specstudio.deployment: d0123   # reserved
    /// ```
    pub struct ReservedLabel {
        code: "C102",
        name: "reserved-label",
        severity: Warning,
        layer: Compose,
        summary: "A label uses the server's `org.specstudio.` namespace",
        help: "Use your own namespace, e.g. `com.example.team`.",
        fixable: false,
    }
}

impl Rule for ReservedLabel {
    fn check(&self, ctx: &Context, sink: &mut Sink) {
        let tree = ctx.tree;
        for service in &ctx.spec.services {
            let Some(labels) = tree.get_value(service.node, "labels") else {
                continue;
            };
            let found: Vec<(crate::syntax::NodeId, &str)> = match tree.shape(labels) {
                Shape::Mapping => tree
                    .entries(labels)
                    .into_iter()
                    .filter_map(|e| Some((e.key, tree.str(e.key)?)))
                    .collect(),
                Shape::Sequence => tree
                    .items(labels)
                    .iter()
                    .filter_map(|i| {
                        let s = tree.str(*i)?;
                        Some((*i, s.split('=').next().unwrap_or(s)))
                    })
                    .collect(),
                _ => Vec::new(),
            };
            for (node, key) in found {
                let reserved = key
                    .trim()
                    .get(..RESERVED_LABEL_PREFIX.len())
                    .is_some_and(|p| p.eq_ignore_ascii_case(RESERVED_LABEL_PREFIX));
                if reserved {
                    sink.at_span(
                        tree.span(node),
                        Some(node),
                        format!(
                            "label `{key}` of service `{}` is in the server's reserved `{RESERVED_LABEL_PREFIX}` namespace",
                            service.name.value
                        ),
                    );
                }
            }
        }
    }
}
