use super::support;
use super::support::{
    allows_empty_password, has_env_file, is_set, literal, mysql_services, role, Role,
};
use crate::declare_rule;
use crate::model::Service;
use crate::rules::{Context, Rule, Sink};

declare_rule! {
    /// ## What
    /// On a MySQL master or standalone server, `MYSQL_USER` is set without
    /// `MYSQL_PASSWORD` (or a master's `MYSQL_REPLICATION_USER` without
    /// `MYSQL_REPLICATION_PASSWORD`), unless `ALLOW_EMPTY_PASSWORD=yes`. Also
    /// `MYSQL_USER=root`, which the image rejects. Slaves skip user creation.
    ///
    /// ## Why
    /// The bitnami image refuses to create a user without a password, and
    /// `root` already exists.
    ///
    /// ## Example
    /// ```yaml
    /// Master:
    ///   environment:
    ///     - MYSQL_REPLICATION_MODE=master
    ///     - MYSQL_ROOT_PASSWORD=$var.mysqlRootPassword
    ///     - MYSQL_USER=app        # no MYSQL_PASSWORD
    /// ```
    pub struct UserWithoutPassword {
        code: "M005",
        name: "user-without-password",
        severity: Error,
        layer: Mysql,
        summary: "A MySQL user is created without a password (or as `root`)",
        help: "Set the matching password variable from a secret api-param, e.g. `MYSQL_PASSWORD=$var.mysqlPassword`.",
        fixable: false,
    }
}

/// Report `user` set without `password` on `service`.
fn check_pair(ctx: &Context, sink: &mut Sink, service: &Service, user: &str, password: &str) {
    let Some(var) = service.env(user) else { return };
    if !is_set(service, user) || is_set(service, password) {
        return;
    }
    let present = service.env(password).is_some();
    if !present && has_env_file(ctx, service) {
        return;
    }
    let state = if present { "is empty" } else { "is not set" };
    let key = crate::rules::secrets::param_key(password);
    sink.at_span(
        var.name.span,
        Some(var.node),
        format!(
            "`{user}` is set on `{}` but `{password}` {state}",
            service.name.value
        ),
    )
    .help(format!(
        "Set `{password}` from a secret api-param (`{password}=$var.{key}`), or `ALLOW_EMPTY_PASSWORD=yes` for development only."
    ));
}

impl Rule for UserWithoutPassword {
    fn check(&self, ctx: &Context, sink: &mut Sink) {
        for service in mysql_services(ctx) {
            let role = role(service);
            if let Some(var) = support::var(service, "MYSQL_USER") {
                if let (Some("root"), Some(value)) = (literal(var), var.value.as_ref()) {
                    sink.at_span(
                        value.span,
                        Some(value.node),
                        "`MYSQL_USER` cannot be `root`: the image creates `root` itself",
                    )
                    .help("Pick another user name, and set the root password with `MYSQL_ROOT_PASSWORD`.");
                    continue;
                }
            }
            let server = matches!(role, Role::Master | Role::Standalone);
            if !server || allows_empty_password(service) {
                continue;
            }
            if !is_set(service, "MARIADB_PASSWORD") {
                check_pair(ctx, sink, service, "MYSQL_USER", "MYSQL_PASSWORD");
            }
            if role == Role::Master {
                check_pair(
                    ctx,
                    sink,
                    service,
                    "MYSQL_REPLICATION_USER",
                    "MYSQL_REPLICATION_PASSWORD",
                );
            }
        }
    }
}
