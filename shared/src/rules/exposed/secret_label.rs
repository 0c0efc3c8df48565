use super::labels_of;
use crate::declare_rule;
use crate::exposed::is_template;
use crate::rules::{Context, Rule, Sink};

declare_rule! {
    /// ## What
    /// A label whose name says it holds a secret (`…password`, `…token`,
    /// `…secret`) with a literal value.
    ///
    /// ## Why
    /// Labels are metadata anyone with `docker inspect` reads; they are not
    /// a place for secrets.
    ///
    /// ## Example
    /// ```yaml
    /// services:
    ///   App:
    ///     image: app:1
    ///     labels:
    ///       com.example.db-password: hunter2
    /// ```
    pub struct SecretLabel {
        code: "S005",
        name: "secret-label",
        severity: Warning,
        layer: Secrets,
        summary: "A label holds a literal secret",
        help: "Remove the label; pass the secret through an api-param with `export: false` in `environment`.",
        fixable: true,
    }
}

impl Rule for SecretLabel {
    fn check(&self, ctx: &Context, sink: &mut Sink) {
        let tree = ctx.tree;
        for service in &ctx.spec.services {
            for (key, node, value_at) in labels_of(tree, service) {
                if !ctx.looks_like_password(key) {
                    continue;
                }
                let Some(raw) = tree.str(node) else { continue };
                let from = value_at.unwrap_or(0);
                let value = &raw[from.min(raw.len())..];
                if value.is_empty() || is_template(value) {
                    continue;
                }
                let span = tree.sub_span(node, from, raw.len());
                super::report_clear_secret(
                    sink,
                    span,
                    raw.len() - from,
                    node,
                    format!(
                        "label `{key}` of service `{}` holds a secret in clear",
                        service.name.value
                    ),
                );
            }
        }
    }
}
