use super::support;
use super::support::{literal, master_of, mysql_services, role, Role};
use crate::declare_rule;
use crate::model::{EnvVar, Service};
use crate::rules::{Context, Rule, Sink};
use crate::template::{self, RefKind, RefScope};

declare_rule! {
    /// ## What
    /// A replication slave's credentials differ from its master's:
    /// `MYSQL_REPLICATION_USER` / `MYSQL_REPLICATION_PASSWORD` against the
    /// master's, and `MYSQL_MASTER_ROOT_USER` / `MYSQL_MASTER_ROOT_PASSWORD`
    /// against the master's `MYSQL_ROOT_USER` / `MYSQL_ROOT_PASSWORD`. Values
    /// are compared when both are literal, or both read the same resource's
    /// parameters (`$parameterGroup.var.a` vs `$parameterGroup.var.b`).
    ///
    /// ## Why
    /// The master creates the replication user with its own values and the
    /// slave logs in with its own; when they differ, the slave waits for the
    /// master forever or replication fails to authenticate.
    ///
    /// ## Example
    /// ```yaml
    /// Master:
    ///   environment:
    ///     - MYSQL_REPLICATION_MODE=master
    ///     - MYSQL_ROOT_PASSWORD=$parameterGroup.var.rootPassword
    /// Replica:
    ///   environment:
    ///     - MYSQL_REPLICATION_MODE=slave
    ///     - MYSQL_MASTER_HOST=$master.sys.network.externalClusterEndpoint
    ///     - MYSQL_MASTER_ROOT_PASSWORD=$parameterGroup.var.replicaRootPassword
    /// ```
    pub struct ReplicationCredentialsMismatch {
        code: "M006",
        name: "replication-credentials-mismatch",
        severity: Error,
        layer: Mysql,
        summary: "A slave's replication credentials differ from its master's",
        help: "Give both services the same value, ideally one parameter both reference (`$parameterGroup.var.…`).",
        fixable: false,
    }
}

/// What a value compares as: its literal text, or the (resource key, param
/// key) a single `$…var.…` reference reads.
#[derive(PartialEq, Eq)]
enum Value<'a> {
    Literal(&'a str),
    Param(String, &'a str),
}

fn value_of<'a>(service: &'a Service, var: &'a EnvVar) -> Option<Value<'a>> {
    if let Some(text) = literal(var) {
        return Some(Value::Literal(text));
    }
    let text = var.value.as_ref()?.value.as_str();
    let scan = template::scan(text);
    let [reference] = scan.refs.as_slice() else {
        return None;
    };
    let rest = format!("{}{}", &text[..reference.start], &text[reference.end..]);
    let rest = rest.replace("{{", "").replace("}}", "");
    if reference.kind != RefKind::Var || !rest.trim().is_empty() {
        return None;
    }
    let owner = match &reference.scope {
        RefScope::This => service.resource_key(),
        RefScope::Resource(key) => key.clone(),
    };
    let key = &text[reference.end - reference.path.len()..reference.end];
    Some(Value::Param(owner, key))
}

fn value_or_default<'a>(
    service: &'a Service,
    var: Option<&'a EnvVar>,
    default: Option<&'static str>,
) -> Option<Value<'a>> {
    match var {
        Some(var) => value_of(service, var),
        None => default.map(Value::Literal),
    }
}

/// `Some(true)` when the two values are comparable and differ.
fn differ(a: &Value, b: &Value) -> Option<bool> {
    match (a, b) {
        (Value::Literal(x), Value::Literal(y)) => Some(x != y),
        (Value::Param(s, x), Value::Param(t, y)) if s == t => Some(x != y),
        _ => None,
    }
}

struct Pair {
    slave: &'static str,
    master: &'static str,
    /// The value both default to when unset.
    default: Option<&'static str>,
}

const PAIRS: &[Pair] = &[
    Pair {
        slave: "MYSQL_REPLICATION_USER",
        master: "MYSQL_REPLICATION_USER",
        default: None,
    },
    Pair {
        slave: "MYSQL_REPLICATION_PASSWORD",
        master: "MYSQL_REPLICATION_PASSWORD",
        default: None,
    },
    Pair {
        slave: "MYSQL_MASTER_ROOT_USER",
        master: "MYSQL_ROOT_USER",
        default: Some("root"),
    },
    Pair {
        slave: "MYSQL_MASTER_ROOT_PASSWORD",
        master: "MYSQL_ROOT_PASSWORD",
        default: None,
    },
];

impl Rule for ReplicationCredentialsMismatch {
    fn check(&self, ctx: &Context, sink: &mut Sink) {
        let spec = ctx.spec;
        for slave in mysql_services(ctx) {
            if role(slave) != Role::Slave {
                continue;
            }
            let Some(master) = master_of(spec, slave) else {
                continue;
            };
            if master.name.value == slave.name.value || role(master) != Role::Master {
                continue;
            }
            for pair in PAIRS {
                let ours = support::var(slave, pair.slave);
                let theirs = support::var(master, pair.master);
                let (Some(a), Some(b)) = (
                    value_or_default(slave, ours, pair.default),
                    value_or_default(master, theirs, pair.default),
                ) else {
                    continue;
                };
                if differ(&a, &b) != Some(true) {
                    continue;
                }
                let name = &master.name.value;
                let message = if pair.slave == pair.master {
                    format!("`{}` differs from `{name}`'s", pair.slave)
                } else {
                    format!("`{}` differs from `{name}`'s `{}`", pair.slave, pair.master)
                };
                let diagnostic = match ours {
                    Some(var) => match &var.value {
                        Some(v) => sink.at_span(v.span, Some(v.node), message),
                        None => sink.at_span(var.name.span, Some(var.node), message),
                    },
                    None => sink.at_span(slave.name.span, Some(slave.name.node), message),
                };
                match theirs {
                    Some(var) => {
                        let span = var.value.as_ref().map_or(var.name.span, |v| v.span);
                        diagnostic.related(span, format!("`{name}` sets `{}` here", pair.master));
                    }
                    None => {
                        diagnostic.related(
                            master.name.span,
                            format!("`{name}` leaves `{}` at its default", pair.master),
                        );
                    }
                }
            }
        }
    }
}
