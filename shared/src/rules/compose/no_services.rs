use super::support;
use crate::declare_rule;
use crate::rules::{Context, Rule, Sink};
use crate::span::Span;
use crate::syntax::Shape;

declare_rule! {
    /// ## What
    /// The spec defines no service: there is no `services:` key, it is
    /// empty, or the document itself is empty (only comments, `---` or `~`).
    ///
    /// ## Why
    /// Services are the resources Omnistrate deploys; a spec without one
    /// deploys nothing and is rejected.
    ///
    /// ## Example
    /// ```yaml
    /// version: "3.9"
    /// services: {}
    /// ```
    pub struct NoServices {
        code: "C012",
        name: "no-services",
        severity: Error,
        layer: Compose,
        summary: "The spec defines no services",
        help: "Add a `services:` mapping with at least one service, e.g. `services: {Web: {image: nginx}}`.",
        fixable: false,
    }
}

impl Rule for NoServices {
    fn check(&self, ctx: &Context, sink: &mut Sink) {
        let tree = ctx.tree;
        let Some(root) = tree.root else {
            // No tree: either the YAML could not be read (the Y rules say why)
            // or the document holds nothing but comments and blanks.
            if ctx.yaml_problems.is_empty() {
                sink.at_span(Span::empty(0), None, "the spec is empty");
            }
            return;
        };
        match tree.shape(root) {
            Shape::Mapping => {}
            // `---` alone, or `~`: nothing in it.
            Shape::Null => {
                let span = support::first_line(ctx.text, tree.span(root));
                let span = if span.is_empty() {
                    Span::empty(0)
                } else {
                    span
                };
                sink.at_span(span, Some(root), "the spec is empty");
                return;
            }
            // A list or a scalar is C013's.
            Shape::Scalar | Shape::Sequence => return,
        }
        match tree.get(root, "services") {
            None => {
                let span = match tree.entries(root).first() {
                    Some(first) => support::token_span(tree, first.key),
                    None => support::first_line(ctx.text, tree.span(root)),
                };
                sink.at_span(span, Some(root), "the spec has no `services`");
            }
            Some(entry) => match tree.shape(entry.value) {
                Shape::Null => {
                    let span = support::token_span(tree, entry.key);
                    sink.at_span(span, Some(entry.value), "`services` is empty");
                }
                Shape::Mapping if tree.entries(entry.value).is_empty() => {
                    let span = support::first_line(ctx.text, tree.span(entry.value));
                    sink.at_span(span, Some(entry.value), "`services` is empty");
                }
                // Services, or a wrong shape (C011).
                _ => {}
            },
        }
    }
}
