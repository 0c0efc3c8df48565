use super::support;
use super::support::{literal, mysql_services, role, Role};
use crate::declare_rule;
use crate::rules::{Context, Rule, Sink};

declare_rule! {
    /// ## What
    /// A literal `MYSQL_ROOT_PASSWORD` longer than 32 characters on a master,
    /// or a literal MySQL password (`MYSQL_ROOT_PASSWORD`, `MYSQL_PASSWORD`,
    /// `MYSQL_REPLICATION_PASSWORD`, `MYSQL_MASTER_ROOT_PASSWORD`) containing
    /// a backslash.
    ///
    /// ## Why
    /// The bitnami image refuses both at start-up.
    ///
    /// ## Example
    /// ```yaml
    /// environment:
    ///   - MYSQL_REPLICATION_MODE=master
    ///   - MYSQL_ROOT_PASSWORD=a-very-long-root-password-of-40-characters
    /// ```
    pub struct MasterPasswordConstraints {
        code: "M010",
        name: "master-password-constraints",
        severity: Warning,
        layer: Mysql,
        summary: "A MySQL password breaks the image's length or character rules",
        help: "Keep a master's root password to 32 characters and no MySQL password may contain `\\`.",
        fixable: false,
    }
}

const PASSWORDS: &[&str] = &[
    "MYSQL_ROOT_PASSWORD",
    "MYSQL_PASSWORD",
    "MYSQL_REPLICATION_PASSWORD",
    "MYSQL_MASTER_ROOT_PASSWORD",
];

impl Rule for MasterPasswordConstraints {
    fn check(&self, ctx: &Context, sink: &mut Sink) {
        for service in mysql_services(ctx) {
            let master = role(service) == Role::Master;
            for name in PASSWORDS {
                let Some(var) = support::var(service, name) else {
                    continue;
                };
                let (Some(password), Some(value)) = (literal(var), var.value.as_ref()) else {
                    continue;
                };
                let length = password.chars().count();
                if *name == "MYSQL_ROOT_PASSWORD" && master && length > 32 {
                    sink.at_span(
                        value.span,
                        Some(value.node),
                        format!("`{name}` of master `{}` is {length} characters long; at most 32 are allowed", service.name.value),
                    )
                    .help("Use a root password of at most 32 characters.");
                }
                if password.contains('\\') {
                    sink.at_span(
                        value.span,
                        Some(value.node),
                        format!("`{name}` contains a backslash, which the image rejects"),
                    )
                    .help("Remove the `\\` from the password.");
                }
            }
        }
    }
}
