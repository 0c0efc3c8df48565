use std::collections::HashSet;

use crate::declare_rule;
use crate::rules::{Context, Rule, RuleMeta, Sink};
use crate::syntax::{NodeId, Shape, MAX_DEPTH};
use crate::template;

declare_rule! {
    /// ## What
    /// A value opens a template with `{{` but never closes it with `}}`.
    ///
    /// ## Why
    /// The reference inside is not resolved and the platform rejects the value.
    ///
    /// ## Example
    /// ```yaml
    /// environment:
    ///   - URL=mysql://{{ $var.user @db:3306
    /// ```
    pub struct UnclosedTemplateBraces {
        code: "T006",
        name: "unclosed-template-braces",
        severity: Error,
        layer: Templates,
        summary: "`{{` is never closed with `}}`",
        help: "Close the template with `}}`, e.g. `{{ $var.x }}`.",
        fixable: false,
    }
}

impl Rule for UnclosedTemplateBraces {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &Context, sink: &mut Sink) {
        let tree = ctx.tree;
        let mut seen: HashSet<NodeId> = HashSet::new();
        for service in &ctx.spec.services {
            // Every scalar value of the service (keys and descriptions aside).
            // An env item `NAME=value` is scanned whole: names hold no braces.
            let mut stack: Vec<(NodeId, usize)> = vec![(service.node, 0)];
            while let Some((node, depth)) = stack.pop() {
                let node = tree.resolve(node);
                if depth > MAX_DEPTH || !seen.insert(node) {
                    continue;
                }
                match tree.shape(node) {
                    Shape::Mapping => {
                        for entry in tree.entries(node).into_iter().rev() {
                            if tree.str(entry.key) != Some("description") {
                                stack.push((entry.value, depth + 1));
                            }
                        }
                    }
                    Shape::Sequence => {
                        for item in tree.items(node).iter().rev() {
                            stack.push((*item, depth + 1));
                        }
                    }
                    Shape::Scalar => {
                        let Some(text) = tree.str(node) else { continue };
                        for at in template::scan(text).unclosed_braces {
                            sink.at_span(
                                tree.sub_span(node, at, at + 2),
                                Some(node),
                                "`{{` is never closed with `}}`",
                            );
                        }
                    }
                    Shape::Null => {}
                }
            }
        }
    }
}
