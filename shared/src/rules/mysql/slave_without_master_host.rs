use super::support;
use super::support::{has_env_file, is_set, mysql_services, role, Role};
use crate::declare_rule;
use crate::rules::{Context, Rule, Sink};

declare_rule! {
    /// ## What
    /// A service in `slave` replication mode has no (or an empty)
    /// `MYSQL_MASTER_HOST`.
    ///
    /// ## Why
    /// A replica must know where its master runs; the bitnami contract makes
    /// an empty `MYSQL_MASTER_HOST` fatal in slave mode.
    ///
    /// ## Example
    /// ```yaml
    /// Replica:
    ///   environment:
    ///     - MYSQL_REPLICATION_MODE=slave
    ///     # missing: MYSQL_MASTER_HOST=$master.sys.network.internalClusterEndpoint
    /// ```
    pub struct SlaveWithoutMasterHost {
        code: "M002",
        name: "slave-without-master-host",
        severity: Error,
        layer: Mysql,
        summary: "A replication slave does not set `MYSQL_MASTER_HOST`",
        help: "Set `MYSQL_MASTER_HOST` to the master's host: `$<master>.sys.network.…` in an Omnistrate spec, the master's service name in plain compose.",
        fixable: false,
    }
}

impl Rule for SlaveWithoutMasterHost {
    fn check(&self, ctx: &Context, sink: &mut Sink) {
        for service in mysql_services(ctx) {
            if role(service) != Role::Slave || is_set(service, "MYSQL_MASTER_HOST") {
                continue;
            }
            let empty = support::var(service, "MYSQL_MASTER_HOST").is_some();
            if !empty && has_env_file(ctx, service) {
                continue;
            }
            let Some(mode_var) = support::var(service, "MYSQL_REPLICATION_MODE") else {
                continue;
            };
            let Some(mode) = mode_var.value.as_ref() else {
                continue;
            };
            // Name the variable in the contract the service uses.
            let host = if mode_var.name.value.starts_with("MARIADB_") {
                "MARIADB_MASTER_HOST"
            } else {
                "MYSQL_MASTER_HOST"
            };
            let message = if empty {
                format!(
                    "`{}` is a replication slave but its `{host}` is empty",
                    service.name.value
                )
            } else {
                format!(
                    "`{}` is a replication slave without `{host}`",
                    service.name.value
                )
            };
            sink.at_span(mode.span, Some(mode.node), message);
        }
    }
}
