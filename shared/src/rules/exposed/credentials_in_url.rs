use super::{labels_of, strings_of};
use crate::declare_rule;
use crate::exposed::url_passwords;
use crate::rules::{Context, Rule, Sink};

declare_rule! {
    /// ## What
    /// A URL with a literal password (`scheme://user:password@host`) in an
    /// environment value, `command`, `entrypoint` or a label.
    ///
    /// ## Why
    /// The password is readable by anyone who sees the spec, its share link
    /// or the container's configuration.
    ///
    /// ## Example
    /// ```yaml
    /// services:
    ///   App:
    ///     image: app:1
    ///     environment:
    ///       DATABASE_URL: mysql://app:hunter2@master:3306/app
    /// ```
    pub struct CredentialsInUrl {
        code: "S004",
        name: "credentials-in-url",
        severity: Warning,
        layer: Secrets,
        summary: "A URL holds a literal password",
        help: "Put the password in an api-param with `export: false` and reference it: `mysql://app:$var.password@master:3306/app`.",
        fixable: true,
    }
}

impl Rule for CredentialsInUrl {
    fn check(&self, ctx: &Context, sink: &mut Sink) {
        let tree = ctx.tree;
        for service in &ctx.spec.services {
            let mut nodes = Vec::new();
            for v in &service.environment {
                if let Some(value) = &v.value {
                    nodes.push((value.node, Some(value.value.as_str()), "environment"));
                }
            }
            for field in ["command", "entrypoint"] {
                nodes.extend(
                    strings_of(tree, service, field)
                        .into_iter()
                        .map(|n| (n, None, "command")),
                );
            }
            nodes.extend(
                labels_of(tree, service)
                    .into_iter()
                    .map(|(_, n, _)| (n, None, "labels")),
            );
            for (node, env_value, what) in nodes {
                let Some(text) = env_value.or_else(|| tree.str(node)) else {
                    continue;
                };
                if !text.contains("://") {
                    continue;
                }
                // an environment value sits after `NAME=` in a list item
                let shift = tree
                    .str(node)
                    .map_or(0, |raw| raw.len().saturating_sub(text.len()));
                for (a, b) in url_passwords(text) {
                    let span = tree.sub_span(node, a + shift, b + shift);
                    super::report_clear_secret(
                        sink,
                        span,
                        b - a,
                        node,
                        format!(
                            "a URL in `{what}` of service `{}` holds a password in clear",
                            service.name.value
                        ),
                    );
                }
            }
        }
    }
}
