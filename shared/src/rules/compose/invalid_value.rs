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
        for (schema, node) in nested::objects(ctx) {
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

/// Go's `time.ParseDuration`: an optional sign, then one or more decimal
/// numbers each with a unit; `0` alone needs none.
pub(crate) fn is_duration(s: &str) -> bool {
    let s = s.strip_prefix(['+', '-']).unwrap_or(s);
    if s == "0" {
        return true;
    }
    let mut rest = s;
    if rest.is_empty() {
        return false;
    }
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number = &rest[..digits];
        if number.is_empty() || number == "." || number.matches('.').count() > 1 {
            return false;
        }
        rest = &rest[digits..];
        let Some(unit) = ["ns", "us", "µs", "μs", "ms", "s", "m", "h"]
            .into_iter()
            .filter(|u| rest.starts_with(u))
            .max_by_key(|u| u.len())
        else {
            return false;
        };
        rest = &rest[unit.len()..];
    }
    true
}

/// Docker's `RAMInBytes`: a number, an optional space, then `b`, `k`, `m`,
/// `g`, `t` or `p` with an optional `i` and `b`; `-1` (unlimited swap) too.
fn is_bytes(s: &str) -> bool {
    if s == "-1" {
        return true;
    }
    let digits = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (number, unit) = s.split_at(digits);
    if number.is_empty() || number.starts_with('.') || number.ends_with('.') {
        return false;
    }
    let unit = unit.strip_prefix(' ').unwrap_or(unit).to_ascii_lowercase();
    let unit = unit.as_str();
    let prefix = unit
        .strip_prefix(['k', 'm', 'g', 't', 'p'])
        .map(|r| r.strip_prefix('i').unwrap_or(r));
    match prefix {
        Some(r) => r.is_empty() || r == "b",
        None => unit.is_empty() || unit == "b",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_follow_go() {
        for ok in [
            "0",
            "30s",
            "1m30s",
            "1.5h",
            "500ms",
            "10us",
            "-1s",
            "2h45m0.5s",
        ] {
            assert!(is_duration(ok), "{ok}");
        }
        for bad in ["", "10", "10 s", "s", "1.2.3s", "10sec", "1d", ".s"] {
            assert!(!is_duration(bad), "{bad}");
        }
    }

    #[test]
    fn sizes_follow_docker() {
        for ok in ["512m", "1gb", "1GiB", "1024", "64 m", "0.5g", "-1", "10b"] {
            assert!(is_bytes(ok), "{ok}");
        }
        for bad in ["", "m", "1x", "1 gigabyte", "1.g", "--1", "1kk"] {
            assert!(!is_bytes(bad), "{bad}");
        }
    }

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
