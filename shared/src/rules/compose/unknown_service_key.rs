use std::collections::HashSet;

use super::support;
use crate::declare_rule;
use crate::model::keys;
use crate::rules::{Context, Rule, Sink};
use crate::syntax::Shape;

declare_rule! {
    /// ## What
    /// A key in a service that compose and Omnistrate do not know. Keys
    /// starting with `x-` are left alone here (unknown `x-omnistrate-*` keys
    /// have their own rule).
    ///
    /// ## Why
    /// Unknown service keys are rejected when the spec is uploaded; most are
    /// typos (`enviroment:`, `port:`) whose settings would otherwise be lost.
    ///
    /// ## Example
    /// ```yaml
    /// services:
    ///   Master:
    ///     image: mysql:8
    ///     enviroment:       # did you mean `environment`?
    ///       - MYSQL_DATABASE=app
    /// ```
    pub struct UnknownServiceKey {
        code: "C002",
        name: "unknown-service-key",
        severity: Error,
        layer: Compose,
        summary: "A service key is not a known compose or Omnistrate key",
        help: "Remove the key, fix its spelling, or prefix it with `x-` to keep it as an extension.",
        fixable: true,
    }
}

impl Rule for UnknownServiceKey {
    fn check(&self, ctx: &Context, sink: &mut Sink) {
        let tree = ctx.tree;
        let mut suggester = support::Suggester::new(
            keys::SERVICE
                .fields
                .iter()
                .filter(|f| f.deprecated_by.is_none())
                .map(|f| f.key),
        );
        for service in &ctx.spec.services {
            if tree.shape(service.node) != Shape::Mapping {
                continue;
            }
            // Merged keys (`<<: *defaults`) are checked where they are written;
            // the message names no service so repeats collapse into one.
            let entries = tree.entries(service.node);
            let present: HashSet<&str> = entries.iter().filter_map(|e| tree.str(e.key)).collect();
            for entry in &entries {
                let Some(key) = tree.str(entry.key) else {
                    continue;
                };
                if key.starts_with("x-") || keys::SERVICE.field(key).is_some() {
                    continue;
                }
                let span = support::token_span(tree, entry.key);
                let suggestion = suggester.suggest(key, None);
                let diagnostic = sink.at_span(
                    span,
                    Some(entry.key),
                    format!("unknown service key `{key}`"),
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
}
