use super::support;
use super::support::{allows_empty_password, has_env_file, is_set, mysql_services, role, Role};
use crate::declare_rule;
use crate::rules::{Context, Rule, Sink};

declare_rule! {
    /// ## What
    /// A MySQL master, or a standalone MySQL/MariaDB server, has no
    /// `MYSQL_ROOT_PASSWORD` (nor `MYSQL_ROOT_PASSWORD_FILE`), and does not
    /// allow empty passwords with `ALLOW_EMPTY_PASSWORD=yes`.
    ///
    /// ## Why
    /// The image refuses to start without a root password.
    ///
    /// ## Example
    /// ```yaml
    /// Master:
    ///   image: docker.io/bitnamilegacy/mysql:8.1.0
    ///   environment:
    ///     - MYSQL_REPLICATION_MODE=master
    ///     # missing: MYSQL_ROOT_PASSWORD=$var.mysqlRootPassword
    /// ```
    pub struct MasterWithoutRootPassword {
        code: "M004",
        name: "master-without-root-password",
        severity: Error,
        layer: Mysql,
        summary: "A MySQL master or standalone server has no root password",
        help: "Set `MYSQL_ROOT_PASSWORD` from a secret api-param (`$var.mysqlRootPassword`); `ALLOW_EMPTY_PASSWORD=yes` is for development only.",
        fixable: false,
    }
}

const ROOT_PASSWORD_VARS: &[&str] = &[
    "MYSQL_ROOT_PASSWORD",
    "MARIADB_ROOT_PASSWORD",
    "MYSQL_RANDOM_ROOT_PASSWORD",
    "MARIADB_RANDOM_ROOT_PASSWORD",
    "MARIADB_ROOT_PASSWORD_HASH",
];

impl Rule for MasterWithoutRootPassword {
    fn check(&self, ctx: &Context, sink: &mut Sink) {
        for service in mysql_services(ctx) {
            let role = role(service);
            let server = matches!(role, Role::Master | Role::Standalone);
            if !server
                || allows_empty_password(service)
                || ROOT_PASSWORD_VARS.iter().any(|v| is_set(service, v))
            {
                continue;
            }
            let name = &service.name.value;
            let what = if role == Role::Master {
                "MySQL master"
            } else {
                "MySQL server"
            };
            // An empty value is reported where it is written.
            if let Some(value) =
                support::var(service, "MYSQL_ROOT_PASSWORD").and_then(|v| v.value.as_ref())
            {
                let span = if value.span.is_empty() {
                    ctx.tree.span(value.node)
                } else {
                    value.span
                };
                sink.at_span(
                    span,
                    Some(value.node),
                    format!("`MYSQL_ROOT_PASSWORD` of {what} `{name}` is empty"),
                );
                continue;
            }
            if has_env_file(ctx, service) {
                continue;
            }
            let message = format!("{what} `{name}` has no `MYSQL_ROOT_PASSWORD`");
            let mode =
                support::var(service, "MYSQL_REPLICATION_MODE").and_then(|v| v.value.as_ref());
            match (mode, &service.image) {
                (Some(mode), _) if role == Role::Master => {
                    sink.at_span(mode.span, Some(mode.node), message);
                }
                (_, Some(image)) => {
                    sink.at_span(image.span, Some(image.node), message);
                }
                _ => {
                    sink.at_span(service.name.span, Some(service.name.node), message);
                }
            }
        }
    }
}
