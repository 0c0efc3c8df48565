use crate::declare_rule;
use crate::params::{check_type, check_value};
use crate::rules::{Context, Rule, Sink};
use crate::template;

use super::support::shorten;

declare_rule! {
    /// ## What
    /// A `defaultValue` that the parameter itself would reject: not of its
    /// `type` (`"abc"` for a `Float64`), outside its `limits`, or not one of
    /// its `options`. The value is not repeated in the message when the
    /// parameter is secret (`Password`/`Secret` type or `export: false`).
    /// Defaults that hold a template (`$sys.…`) are not checked.
    ///
    /// ## Why
    /// A customer who keeps the default would get an instance the platform
    /// refuses to create, or one configured outside the range you meant.
    ///
    /// ## Example
    /// ```yaml
    /// - key: numReadReplicas
    ///   type: Float64
    ///   required: false
    ///   defaultValue: "0"   # below limits.min
    ///   limits: {min: 1, max: 10}
    /// ```
    pub struct DefaultValueMismatch {
        code: "O016",
        name: "default-value-mismatch",
        severity: Error,
        layer: Omnistrate,
        summary: "A default value fails its parameter's type, limits or options",
        help: "Change the default to a value the parameter accepts, or widen its limits or options.",
        fixable: false,
    }
}

impl Rule for DefaultValueMismatch {
    fn check(&self, ctx: &Context, sink: &mut Sink) {
        for service in &ctx.spec.services {
            for param in &service.api_params {
                let Some(default) = &param.default_value else {
                    continue;
                };
                let value = default.value.as_str();
                if !template::scan(value).is_empty() {
                    continue;
                }
                let Err(problem) = check_value(param, value) else {
                    continue;
                };
                let problem = match param.param_type {
                    Some(ty) if value.trim().is_empty() && check_type(ty, value).is_err() => {
                        format!("an empty value is not a valid {}", ty.name())
                    }
                    _ if param.is_secret() => redact(&problem, value),
                    _ => problem,
                };
                let key = param
                    .key_str()
                    .map(|k| format!("default for `{k}`"))
                    .unwrap_or_else(|| "default".to_owned());
                // `check_value` says "is 3 characters long…" about length.
                let message = if problem.starts_with("is ") {
                    format!("the {key} {problem}")
                } else {
                    format!("invalid {key}: {problem}")
                };
                sink.at(default.node, message);
            }
        }
    }
}

/// Hide a secret value in a `check_value` message.
fn redact(message: &str, value: &str) -> String {
    let mut out = message
        .replace(&format!("`{}`", shorten(value)), "the value")
        .replace(&format!("`{value}`"), "the value");
    if let Some(rest) = out.strip_prefix(&format!("{value} is ")) {
        out = format!("the value is {rest}");
    }
    out
}
