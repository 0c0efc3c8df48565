use super::support;
use super::support::{literal, masters, mysql_services, role, value_is_exact, Role};
use crate::declare_rule;
use crate::diagnostic::Fix;
use crate::model::Service;
use crate::rules::{Context, Rule, Sink};

declare_rule! {
    /// ## What
    /// A replication slave's `MYSQL_MASTER_HOST` points at itself: `localhost`,
    /// `127.0.0.1`, `::1`, `0.0.0.0`, or its own service name or resource key.
    ///
    /// ## Why
    /// Inside a container these names are the replica itself, not the master:
    /// replication never starts and the replica waits for a master that is
    /// not there.
    ///
    /// ## Example
    /// ```yaml
    /// Replica:
    ///   environment:
    ///     - MYSQL_REPLICATION_MODE=slave
    ///     - MYSQL_MASTER_HOST=localhost   # the replica itself
    /// ```
    pub struct MasterHostLoopback {
        code: "M003",
        name: "master-host-loopback",
        severity: Error,
        layer: Mysql,
        summary: "A replica's `MYSQL_MASTER_HOST` points at the replica itself",
        help: "Point `MYSQL_MASTER_HOST` at the master service.",
        fixable: true,
    }
}

fn is_loopback(host: &str) -> bool {
    let lower = host.trim().to_ascii_lowercase();
    matches!(
        lower.as_str(),
        "localhost" | "localhost.localdomain" | "::1" | "[::1]" | "0.0.0.0" | "::" | "[::]"
    ) || lower.starts_with("127.")
}

fn is_own_name(host: &str, service: &Service) -> bool {
    let host = host.trim();
    host.eq_ignore_ascii_case(&service.name.value) || host == service.resource_key()
}

/// How to reach `master` from another resource, as a template.
fn master_template(master: &Service) -> String {
    let serverless = master
        .capabilities
        .as_ref()
        .is_some_and(|c| c.serverless.is_some());
    let path = if serverless {
        "network.externalClusterServerlessEndpoint.endpointName"
    } else {
        "network.externalClusterEndpoint"
    };
    format!("${}.sys.{path}", master.resource_key())
}

impl Rule for MasterHostLoopback {
    fn check(&self, ctx: &Context, sink: &mut Sink) {
        let masters = masters(ctx);
        let omnistrate = ctx.is_omnistrate();
        for service in mysql_services(ctx) {
            if role(service) != Role::Slave {
                continue;
            }
            let Some(var) = support::var(service, "MYSQL_MASTER_HOST") else {
                continue;
            };
            let (Some(host), Some(value)) = (literal(var), var.value.as_ref()) else {
                continue;
            };
            let own = &service.name.value;
            let message = if is_loopback(host) {
                format!("`{host}` is `{own}` itself inside its container, not its master")
            } else if is_own_name(host, service) {
                format!("`{own}` names itself as its master")
            } else {
                continue;
            };
            let diagnostic = sink.at_span(value.span, Some(value.node), message);
            let [master] = masters.as_slice() else {
                continue;
            };
            let name = &master.name.value;
            if omnistrate {
                diagnostic.help(format!(
                    "Point it at `{name}`: `MYSQL_MASTER_HOST={}` (and link `{name}` with a `Resource` param).",
                    master_template(master)
                ));
            } else {
                diagnostic.help(format!(
                    "Point it at `{name}`: compose services reach each other by service name."
                ));
                if value_is_exact(ctx, var) {
                    diagnostic.fix(Fix::replace(
                        format!("Replace with `{name}`"),
                        value.span,
                        name.clone(),
                    ));
                }
            }
        }
    }
}
