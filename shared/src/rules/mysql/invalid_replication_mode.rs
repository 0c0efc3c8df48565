use super::support;
use super::support::{literal, mysql_services, value_is_exact};
use crate::declare_rule;
use crate::diagnostic::Fix;
use crate::model::keys::did_you_mean;
use crate::rules::{Context, Rule, Sink};

declare_rule! {
    /// ## What
    /// `MYSQL_REPLICATION_MODE` is neither `master` nor `slave` (leave it empty
    /// or unset for a standalone server). The value is case-sensitive.
    ///
    /// ## Why
    /// The bitnami MySQL contract treats any other value as fatal: the
    /// container exits at start-up.
    ///
    /// ## Example
    /// ```yaml
    /// environment:
    ///   - MYSQL_REPLICATION_MODE=replica   # use `slave`
    /// ```
    pub struct InvalidReplicationMode {
        code: "M001",
        name: "invalid-replication-mode",
        severity: Error,
        layer: Mysql,
        summary: "`MYSQL_REPLICATION_MODE` must be `master`, `slave` or empty",
        help: "Use `master` or `slave`, or leave it empty for a standalone server.",
        fixable: true,
    }
}

/// The mode someone writing `value` meant, if it is clear.
fn intended(value: &str) -> Option<&'static str> {
    let lower = value.trim().to_ascii_lowercase();
    match lower.as_str() {
        "master" | "primary" | "main" | "source" | "leader" | "writer" => Some("master"),
        "slave" | "replica" | "replication" | "secondary" | "follower" | "reader"
        | "read-replica" | "read_replica" | "standby" => Some("slave"),
        _ => did_you_mean(&lower, ["master", "slave"]),
    }
}

impl Rule for InvalidReplicationMode {
    fn check(&self, ctx: &Context, sink: &mut Sink) {
        for service in mysql_services(ctx) {
            let Some(var) = support::var(service, "MYSQL_REPLICATION_MODE") else {
                continue;
            };
            let (Some(value), Some(env_value)) = (literal(var), var.value.as_ref()) else {
                continue;
            };
            if matches!(value, "master" | "slave" | "") {
                continue;
            }
            let diagnostic = sink.at_span(
                env_value.span,
                Some(env_value.node),
                format!("`{value}` is not a replication mode"),
            );
            if let Some(mode) = intended(value) {
                diagnostic.help(format!(
                    "Use `{mode}`; the only modes are `master` and `slave` (empty = standalone)."
                ));
                if value_is_exact(ctx, var) {
                    diagnostic.fix(Fix::replace(
                        format!("Did you mean `{mode}`?"),
                        env_value.span,
                        mode,
                    ));
                }
            }
        }
    }
}
