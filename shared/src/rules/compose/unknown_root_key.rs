use std::collections::HashSet;

use super::support;
use crate::declare_rule;
use crate::model::keys;
use crate::rules::{Context, Rule, Sink};

declare_rule! {
    /// ## What
    /// A top-level key that neither compose nor Omnistrate knows, and that is
    /// not an `x-` extension.
    ///
    /// ## Why
    /// Unknown keys are rejected when the spec is uploaded, and they are
    /// usually a typo of a real key (`service:` for `services:`) whose content
    /// is then silently missing.
    ///
    /// ## Example
    /// ```yaml
    /// service:          # did you mean `services`?
    ///   Web:
    ///     image: nginx
    /// ```
    pub struct UnknownRootKey {
        code: "C001",
        name: "unknown-root-key",
        severity: Error,
        layer: Compose,
        summary: "A top-level key is not a known compose or Omnistrate key",
        help: "Remove the key, fix its spelling, or prefix it with `x-` to keep it as an extension.",
        fixable: true,
    }
}

impl Rule for UnknownRootKey {
    fn check(&self, ctx: &Context, sink: &mut Sink) {
        let Some(root) = ctx.spec.root else { return };
        let tree = ctx.tree;
        let entries = tree.entries(root);
        let present: HashSet<&str> = entries.iter().filter_map(|e| tree.str(e.key)).collect();
        let mut suggester = support::Suggester::new(
            keys::ROOT
                .fields
                .iter()
                .filter(|f| f.deprecated_by.is_none())
                .map(|f| f.key),
        );
        for entry in &entries {
            let Some(key) = tree.str(entry.key) else {
                continue;
            };
            if key.starts_with("x-") || keys::ROOT.field(key).is_some() {
                continue;
            }
            let span = support::token_span(tree, entry.key);
            let suggestion = suggester.suggest(key, None);
            let diagnostic = sink.at_span(
                span,
                Some(entry.key),
                format!("unknown top-level key `{key}`"),
            );
            if let Some(suggestion) = suggestion {
                if present.contains(suggestion) {
                    diagnostic.help(format!(
                        "Did you mean `{suggestion}`? It is already set here: merge the two or remove this one."
                    ));
                } else {
                    diagnostic.help(format!("Did you mean `{suggestion}`?"));
                    if let Some(fix) = support::rename(ctx.text, span, key, suggestion) {
                        diagnostic.fix(fix);
                    }
                }
            }
        }
    }
}
