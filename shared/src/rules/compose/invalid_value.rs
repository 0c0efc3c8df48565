use super::nested;
use crate::declare_rule;
use crate::interpolation::{self, Vars};
use crate::rules::{Context, Rule, Sink};
use crate::syntax::{NodeId, ScalarValue, Shape, Tree};

declare_rule! {
    /// ## What
    /// A compose value outside what the specification allows: a keyword that
    /// is not one of its choices (`restart`, `pull_policy`, `cgroup`,
    /// `deploy.mode`, `endpoint_mode`, `restart_policy.condition`,
    /// `update_config.failure_action`/`order`, long-syntax port `mode`,
    /// `depends_on` `condition`), a duration that is not Go's `1m30s` form
    /// (healthcheck times, `stop_grace_period`, restart and update delays),
    /// or a byte size that is not `512m`/`1gb`/a number (`mem_limit`,
    /// `shm_size`, resource `memory`).
    ///
    /// ## Why
    /// Compose parses these when it loads the file and refuses the whole
    /// file on the first bad one (`invalid restart policy`, `time: unknown
    /// unit`, `invalid size`). A value with `${VAR}` is judged after
    /// interpolation when the variables are known, and left alone otherwise.
    ///
    /// ## Example
    /// ```yaml
    /// services:
    ///   web:
    ///     image: nginx
    ///     restart: sometimes        # no, always, on-failure[:N], unless-stopped
    ///     healthcheck:
    ///       interval: 10 seconds    # 10s
    /// ```
    pub struct InvalidComposeValue {
        code: "C024",
        name: "invalid-compose-value",
        severity: Error,
        layer: Compose,
        summary: "A compose keyword, duration or size is not one compose accepts",
        help: "Use one of the listed keywords, a duration such as `30s` or `1m30s`, or a size such as `512m`.",
        fixable: false,
    }
}

/// What a value must look like.
#[derive(Clone, Copy)]
enum Form {
    OneOf(&'static [&'static str]),
    Restart,
    PullPolicy,
    Duration,
    Bytes,
}

/// Keys of a service itself.
const SERVICE: &[(&str, Form)] = &[
    ("restart", Form::Restart),
    ("pull_policy", Form::PullPolicy),
    ("cgroup", Form::OneOf(&["host", "private"])),
    ("stop_grace_period", Form::Duration),
    ("mem_limit", Form::Bytes),
    ("mem_reservation", Form::Bytes),
    ("memswap_limit", Form::Bytes),
    ("shm_size", Form::Bytes),
];

/// Keys of the nested objects, by the name of their table in
/// `model::compose_keys`.
const NESTED: &[(&str, &str, Form)] = &[
    (
        "deploy",
        "mode",
        Form::OneOf(&["replicated", "global", "replicated-job", "global-job"]),
    ),
    ("deploy", "endpoint_mode", Form::OneOf(&["vip", "dnsrr"])),
    (
        "restart_policy",
        "condition",
        Form::OneOf(&["none", "on-failure", "any"]),
    ),
    ("restart_policy", "delay", Form::Duration),
    ("restart_policy", "window", Form::Duration),
    (
        "update_config",
        "failure_action",
        Form::OneOf(&["continue", "rollback", "pause"]),
    ),
    (
        "update_config",
        "order",
        Form::OneOf(&["stop-first", "start-first"]),
    ),
    ("update_config", "delay", Form::Duration),
    ("update_config", "monitor", Form::Duration),
    ("limits", "memory", Form::Bytes),
    ("reservations", "memory", Form::Bytes),
    ("healthcheck", "interval", Form::Duration),
    ("healthcheck", "timeout", Form::Duration),
    ("healthcheck", "start_period", Form::Duration),
    ("healthcheck", "start_interval", Form::Duration),
    ("port", "mode", Form::OneOf(&["host", "ingress"])),
    (
        "depends_on entry",
        "condition",
        Form::OneOf(&[
            "service_started",
            "service_healthy",
            "service_completed_successfully",
        ]),
    ),
];

impl Rule for InvalidComposeValue {
    fn check(&self, ctx: &Context, sink: &mut Sink) {
        let tree = ctx.tree;
        let mut judge = |map: NodeId, key: &str, form: Form| {
            let Some(value) = tree.get_value(map, key) else {
                return;
            };
            let value = tree.resolve(value);
            if let Some(problem) = problem(tree, value, form, ctx.vars) {
                sink.at(value, format!("`{key}`: {problem}"));
            }
        };
        for service in &ctx.spec.services {
            if tree.shape(service.node) == Shape::Mapping {
                for &(key, form) in SERVICE {
                    judge(service.node, key, form);
                }
            }
        }
        for &(schema, node) in nested::objects(ctx) {
            for &(object, key, form) in NESTED {
                if schema.name == object {
                    judge(node, key, form);
                }
            }
        }
    }
}

/// Why `node` does not have `form`, or `None` when it does (or cannot be
/// judged: a non-string scalar is the shape rule's business, an unknown
/// variable leaves the value open).
fn problem(tree: &Tree, node: NodeId, form: Form, vars: &Vars) -> Option<String> {
    let raw = match tree.value(node)? {
        ScalarValue::Str(s) => s,
        ScalarValue::Int(_) if matches!(form, Form::Bytes) => return None,
        // A bare number where a duration is wanted: compose reads it as a
        // string and Go refuses it unless it is 0.
        ScalarValue::Int(0) if matches!(form, Form::Duration) => return None,
        ScalarValue::Int(n) if matches!(form, Form::Duration) => {
            return Some(format!("`{n}` has no unit: write `{n}s`"));
        }
        _ => return None,
    };
    let text = if interpolation::needs_interpolation(raw) {
        interpolation::interpolate(raw, vars)
            .ok()?
            .text()?
            .to_owned()
    } else {
        raw.to_owned()
    };
    let ok = match form {
        Form::OneOf(choices) => choices.contains(&text.as_str()),
        Form::Restart => is_restart(&text),
        Form::PullPolicy => is_pull_policy(&text),
        Form::Duration => is_duration(&text),
        Form::Bytes => is_bytes(&text),
    };
    if ok {
        return None;
    }
    let shown = shown(&text);
    Some(match form {
        Form::OneOf(choices) => format!(
            "`{shown}` is not one of {}",
            choices
                .iter()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Form::Restart => format!(
            "`{shown}` is not a restart policy (`no`, `always`, `on-failure[:N]`, `unless-stopped`)"
        ),
        Form::PullPolicy => format!(
            "`{shown}` is not a pull policy (`always`, `never`, `missing`, `build`, `daily`, `weekly`, `every_<duration>`)"
        ),
        Form::Duration => format!("`{shown}` is not a duration (`30s`, `1m30s`, `500ms`)"),
        Form::Bytes => format!("`{shown}` is not a size (`512m`, `1gb`, a number of bytes)"),
    })
}

/// At most 40 characters of a value in a message.
fn shown(text: &str) -> String {
    match text.char_indices().nth(40) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_owned(),
    }
}

fn is_restart(s: &str) -> bool {
    match s.strip_prefix("on-failure") {
        Some("") => true,
        Some(rest) => rest
            .strip_prefix(':')
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())),
        None => matches!(s, "no" | "always" | "unless-stopped"),
    }
}

fn is_pull_policy(s: &str) -> bool {
    matches!(
        s,
        "always" | "never" | "missing" | "if_not_present" | "build" | "daily" | "weekly"
    ) || s.strip_prefix("every_").is_some_and(is_duration)
}

fn is_duration(s: &str) -> bool {
    crate::units::parse_duration(s).is_some()
}

fn is_bytes(s: &str) -> bool {
    crate::units::parse_bytes(s).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restart_policies() {
        for ok in [
            "no",
            "always",
            "on-failure",
            "on-failure:3",
            "unless-stopped",
        ] {
            assert!(is_restart(ok), "{ok}");
        }
        for bad in ["never", "on-failure:", "on-failure:x", "yes"] {
            assert!(!is_restart(bad), "{bad}");
        }
    }
}
