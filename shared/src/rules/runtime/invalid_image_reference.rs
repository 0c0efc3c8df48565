use crate::declare_rule;
use crate::rules::{Context, Rule, Sink};

declare_rule! {
    /// ## What
    /// An `image` that is not a valid Docker image reference
    /// (`[registry[:port]/]path[:tag][@digest]`, lower-case paths, tags of
    /// letters, digits, `_`, `.` and `-`, `sha256:` digests of 64 hex digits).
    ///
    /// ## Why
    /// Docker refuses such a reference only when the deployment starts; the
    /// server checks it first and answers `422`, and the editor marks it.
    ///
    /// ## Example
    /// ```yaml
    /// services:
    ///   Web:
    ///     image: "My/Web:1"   # repository names are lower case
    /// ```
    pub struct InvalidImageReference {
        code: "C100",
        name: "invalid-image-reference",
        severity: Error,
        layer: Compose,
        summary: "`image` is not a valid Docker image reference",
        help: "Write `[registry[:port]/]name[:tag][@sha256:<64 hex>]` with a lower-case name, e.g. `docker.io/bitnami/mysql:8.0`.",
        fixable: false,
    }
}

impl Rule for InvalidImageReference {
    fn check(&self, ctx: &Context, sink: &mut Sink) {
        for service in &ctx.spec.services {
            let Some(node) = ctx.tree.get_value(service.node, "image") else {
                continue;
            };
            let Some(image) = ctx.tree.str(node) else {
                continue;
            };
            // templated images are checked once resolved (by the server);
            // an empty one is C004's
            if image.contains('$') || image.contains("{{") || image.trim().is_empty() {
                continue;
            }
            if let Err(why) = crate::image_ref::check(image) {
                sink.at(
                    node,
                    format!(
                        "`image` of service `{}` is not a valid image reference: {why}",
                        service.name.value
                    ),
                );
            }
        }
    }
}
