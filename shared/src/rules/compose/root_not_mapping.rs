use super::support;
use crate::declare_rule;
use crate::rules::{Context, Rule, Sink};
use crate::syntax::Shape;

declare_rule! {
    /// ## What
    /// The document is a list or a single value instead of a mapping
    /// of top-level keys (`services:`, `volumes:`…). In a file of several
    /// documents, each one (compose-go refuses the file with "top-level
    /// object must be a mapping"; an empty document is skipped).
    ///
    /// ## Why
    /// A compose spec is a mapping; nothing else in the file can be read
    /// until it is one. An indented or `- `-prefixed first line is the usual
    /// cause.
    ///
    /// ## Example
    /// ```yaml
    /// - services:
    ///     Web:
    ///       image: nginx
    /// ```
    pub struct RootNotMapping {
        code: "C013",
        name: "root-not-mapping",
        severity: Error,
        layer: Compose,
        summary: "The document is not a mapping of top-level keys",
        help: "Start the file with top-level keys such as `services:` at column 1, without a leading `- `.",
        fixable: false,
    }
}

impl Rule for RootNotMapping {
    fn check(&self, ctx: &Context, sink: &mut Sink) {
        let tree = ctx.tree;
        let documents = match tree.documents.as_slice() {
            [] => tree.root.as_slice(),
            all => all,
        };
        for (n, &root) in documents.iter().enumerate() {
            // An empty (`null`) document is C012's (or skipped, after the first).
            if matches!(tree.shape(root), Shape::Mapping | Shape::Null) {
                continue;
            }
            let got = support::describe(tree, root);
            let span = support::first_line(ctx.text, support::token_span(tree, root));
            let message = if documents.len() == 1 {
                format!("the document is {got}, not a mapping of top-level keys")
            } else {
                format!(
                    "YAML document {} is {got}, not a mapping of top-level keys: compose refuses the file",
                    n + 1
                )
            };
            sink.at_span(span, Some(root), message);
        }
    }
}
