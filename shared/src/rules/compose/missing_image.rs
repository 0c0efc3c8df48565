use super::support;
use crate::declare_rule;
use crate::rules::{Context, Rule, Sink};
use crate::syntax::Shape;

declare_rule! {
    /// ## What
    /// A service with neither an `image` nor a `build`, including an empty
    /// service (`Web:` with no body) and an empty `image:`. A service that
    /// `extends` another takes them from its base.
    ///
    /// ## Why
    /// Every resource runs an image; without one there is nothing to deploy.
    /// A resource that only holds parameters uses `image: omnistrate/noop`.
    ///
    /// ## Example
    /// ```yaml
    /// services:
    ///   Master:           # no image
    ///     ports:
    ///       - '3306'
    /// ```
    pub struct MissingImage {
        code: "C004",
        name: "missing-image",
        severity: Error,
        layer: Compose,
        summary: "A service has neither `image` nor `build`",
        help: "Add `image: <repository>:<tag>`, or `image: omnistrate/noop` for a resource that only holds parameters.",
        fixable: false,
    }
}

impl Rule for MissingImage {
    fn check(&self, ctx: &Context, sink: &mut Sink) {
        let tree = ctx.tree;
        for (index, service) in ctx.spec.services.iter().enumerate() {
            // The image may come from an `extends` base (C016 reports a broken one).
            if service.extends.is_some() {
                let chain = ctx.spec.extends_chain(index);
                let inherited = chain.bases.iter().any(|&b| {
                    let base = &ctx.spec.services[b];
                    base.image.is_some() || base.build.is_some_and(|n| tree.shape(n) != Shape::Null)
                });
                // A base in another file: known only when the caller gave it.
                let last = chain.bases.last().copied().unwrap_or(index);
                let external = ctx.spec.services[last].extends.as_ref().and_then(|e| {
                    let file = e.file.as_ref()?;
                    let base = e.service.as_ref()?;
                    ctx.external.base_has_image(&file.value, &base.value)
                });
                let incomplete = chain.cycle
                    || chain.unknown.is_some()
                    || (chain.external && external != Some(false));
                if inherited || incomplete {
                    continue;
                }
            }
            // A scalar or list body is a wrong shape (C011), not a missing image.
            if !matches!(tree.shape(service.node), Shape::Mapping | Shape::Null) {
                continue;
            }
            let name = &service.name.value;
            let build = tree
                .get_value(service.node, "build")
                .filter(|b| tree.shape(*b) != Shape::Null);
            if build.is_some() {
                continue;
            }
            match tree.get(service.node, "image") {
                None => {
                    let span = support::token_span(tree, service.name.node);
                    sink.at_span(
                        span,
                        Some(service.name.node),
                        format!("service `{name}` has no `image`"),
                    );
                }
                Some(entry) => match tree.shape(entry.value) {
                    Shape::Null => {
                        let span = support::token_span(tree, entry.key);
                        sink.at_span(
                            span,
                            Some(entry.value),
                            format!("`image` of service `{name}` is empty"),
                        );
                    }
                    Shape::Scalar if tree.str(entry.value).is_some_and(|s| s.trim().is_empty()) => {
                        sink.at_span(
                            tree.span(entry.value),
                            Some(entry.value),
                            format!("`image` of service `{name}` is empty"),
                        );
                    }
                    // Anything else is an image, or a wrong shape for C011.
                    _ => {}
                },
            }
        }
    }
}
