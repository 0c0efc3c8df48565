//! API-parameter values: type, limits and options checks, defaults, secrets.
//!
//! The deploy form (in the page) and `POST /api/deployments` (on the server)
//! both judge parameter values with this module, so they always agree.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::model::{ApiParam, ParamType, Spec};

/// Check one value, written as text, against a parameter's type, limits and options.
pub fn check_value(param: &ApiParam, value: &str) -> Result<(), String> {
    // a line break or NUL in a name, a password or an instance type passes
    // every type check and breaks the container (or its SQL) later
    let json = param.param_type == Some(ParamType::Json);
    if !json && value.chars().any(char::is_control) {
        return Err("contains a line break or another control character".into());
    }
    if let Some(ty) = param.param_type {
        check_type(ty, value)?;
    }
    if let Some(limits) = &param.limits {
        let numeric = param.param_type.is_some_and(ParamType::is_numeric);
        if numeric {
            if let Ok(number) = value.trim().parse::<f64>() {
                if let Some(min) = &limits.min {
                    if number < min.value {
                        return Err(format!(
                            "{value} is below the minimum {}",
                            fmt_number(min.value)
                        ));
                    }
                }
                if let Some(max) = &limits.max {
                    if number > max.value {
                        return Err(format!(
                            "{value} is above the maximum {}",
                            fmt_number(max.value)
                        ));
                    }
                }
            }
        }
        let length = value.chars().count() as f64;
        if let Some(min) = &limits.min_length {
            if length < min.value {
                return Err(format!(
                    "is {length} characters long; at least {} are required",
                    fmt_number(min.value)
                ));
            }
        }
        if let Some(max) = &limits.max_length {
            if length > max.value {
                return Err(format!(
                    "is {length} characters long; at most {} are allowed",
                    fmt_number(max.value)
                ));
            }
        }
    }
    if let Some(options) = &param.options {
        if !options.is_empty() && !options.iter().any(|o| o.value == value) {
            let list: Vec<&str> = options.iter().map(|o| o.value.as_str()).collect();
            return Err(format!(
                "`{value}` is not one of the options: {}",
                list.join(", ")
            ));
        }
    }
    Ok(())
}

/// Check a value's text against a type.
pub fn check_type(ty: ParamType, value: &str) -> Result<(), String> {
    let trimmed = value.trim();
    let ok = match ty {
        ParamType::Boolean => matches!(
            trimmed,
            "true" | "false" | "True" | "False" | "TRUE" | "FALSE"
        ),
        ParamType::Int | ParamType::Int64 => trimmed.parse::<i64>().is_ok(),
        ParamType::Int32 => trimmed.parse::<i32>().is_ok(),
        ParamType::Uint | ParamType::Uint64 => trimmed.parse::<u64>().is_ok(),
        ParamType::Uint32 => trimmed.parse::<u32>().is_ok(),
        ParamType::Float32 | ParamType::Float64 => trimmed.parse::<f64>().is_ok_and(f64::is_finite),
        ParamType::Json => serde_json::from_str::<serde_json::Value>(value).is_ok(),
        ParamType::String
        | ParamType::Password
        | ParamType::Secret
        | ParamType::Resource
        | ParamType::Any
        | ParamType::Bytes => true,
    };
    if ok {
        Ok(())
    } else {
        Err(format!("`{}` is not a valid {}", shorten(value), ty.name()))
    }
}

fn shorten(value: &str) -> String {
    if value.chars().count() > 40 {
        format!("{}…", value.chars().take(40).collect::<String>())
    } else {
        value.to_owned()
    }
}

fn fmt_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

/// A parameter value given by a client, as JSON.
pub fn value_text(value: &serde_json::Value) -> Option<String> {
    match value {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A problem with one given parameter.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ParamIssue {
    pub key: String,
    /// The service whose declaration was violated, when one is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    pub message: String,
}

/// Where a resolved value came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Given,
    Default,
    Generated,
}

/// One resolved parameter of one service.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ResolvedParam {
    pub service: String,
    pub key: String,
    pub value: String,
    pub secret: bool,
    pub modifiable: bool,
    pub source: Source,
}

/// Every parameter of every service, with values.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ResolvedParams {
    pub params: Vec<ResolvedParam>,
}

impl ResolvedParams {
    pub fn get(&self, service: &str, key: &str) -> Option<&ResolvedParam> {
        self.params
            .iter()
            .find(|p| p.service == service && p.key == key)
    }

    /// The flat map clients send (first service wins for shared keys, which
    /// hold one value anyway).
    pub fn flat(&self) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        for p in &self.params {
            out.entry(p.key.clone()).or_insert_with(|| p.value.clone());
        }
        out
    }

    /// Values every secret param holds (for redaction).
    pub fn secret_values(&self) -> Vec<String> {
        self.params
            .iter()
            .filter(|p| p.secret && !p.value.is_empty())
            .map(|p| p.value.clone())
            .collect()
    }
}

/// The value a parameter must be given by hand (not a `Resource` link, which
/// the deployment wires itself).
pub fn is_user_param(param: &ApiParam) -> bool {
    param.param_type != Some(ParamType::Resource)
}

/// Resolve a flat map of given values against every service's api-params:
/// a key several services declare applies to each. Missing password-type
/// params are generated with `generate`; other missing required params,
/// unknown keys and bad values are issues.
pub fn resolve(
    spec: &Spec,
    given: &BTreeMap<String, serde_json::Value>,
    generate: &mut dyn FnMut(&ApiParam) -> String,
) -> Result<ResolvedParams, Vec<ParamIssue>> {
    let mut issues = Vec::new();
    let mut resolved = ResolvedParams::default();
    // A generated secret shared by several services must be one value.
    let mut generated: BTreeMap<String, String> = BTreeMap::new();
    for key in given.keys() {
        let declared = spec.services.iter().any(|s| s.param(key).is_some());
        if !declared {
            let known = spec
                .services
                .iter()
                .flat_map(|s| s.api_params.iter().filter_map(|p| p.key_str()));
            let hint = crate::model::keys::did_you_mean(key, known)
                .map(|k| format!(" (did you mean `{k}`?)"))
                .unwrap_or_default();
            issues.push(ParamIssue {
                key: key.clone(),
                service: None,
                message: format!("no service declares a parameter `{key}`{hint}"),
            });
        }
    }
    for service in &spec.services {
        for param in &service.api_params {
            let Some(key) = param.key_str() else { continue };
            if !is_user_param(param) {
                continue;
            }
            let issue = |message: String| ParamIssue {
                key: key.to_owned(),
                service: Some(service.name.value.clone()),
                message,
            };
            let (value, source) = match given.get(key) {
                Some(raw) => match value_text(raw) {
                    Some(text) => (text, Source::Given),
                    None => {
                        issues.push(issue("must be a string, number or boolean".into()));
                        continue;
                    }
                },
                None => match &param.default_value {
                    Some(default) => (default.value.clone(), Source::Default),
                    None if param.param_type.is_some_and(ParamType::is_secret)
                        || (param.is_required()
                            && !param.is_exported()
                            && looks_like_password(key)) =>
                    {
                        let value = generated
                            .entry(key.to_owned())
                            .or_insert_with(|| generate(param))
                            .clone();
                        (value, Source::Generated)
                    }
                    None if param.is_required() => {
                        issues.push(issue(format!(
                            "`{key}` is required by {}",
                            service.name.value
                        )));
                        continue;
                    }
                    None => (String::new(), Source::Default),
                },
            };
            if source != Source::Generated && !(source == Source::Default && value.is_empty()) {
                let checked =
                    check_value(param, &value).and_then(|()| check_usage(spec, key, &value));
                if let Err(message) = checked {
                    let message = if param.is_secret() {
                        redact_message(&message, &value)
                    } else {
                        message
                    };
                    issues.push(issue(message));
                    continue;
                }
            }
            resolved.params.push(ResolvedParam {
                service: service.name.value.clone(),
                key: key.to_owned(),
                value,
                secret: param.is_secret(),
                modifiable: param.is_modifiable(),
                source,
            });
        }
    }
    if issues.is_empty() {
        Ok(resolved)
    } else {
        Err(issues)
    }
}

/// How a parameter's value is used by the MySQL images: which environment
/// variables it flows into (through `$var.KEY` or `$Resource.var.KEY`).
fn env_uses<'a>(spec: &'a Spec, key: &str) -> impl Iterator<Item = &'a str> {
    let needle = format!("var.{key}");
    spec.services.iter().flat_map(move |s| {
        let needle = needle.clone();
        s.environment.iter().filter_map(move |v| {
            let value = &v.value.as_ref()?.value;
            let used = value.match_indices(&needle).any(|(i, _)| {
                value[i + needle.len()..]
                    .chars()
                    .next()
                    .is_none_or(|c| !(c.is_alphanumeric() || c == '_'))
            });
            used.then_some(v.name.value.as_str())
        })
    })
}

/// Checks a value needs because of where it goes: a MySQL user name, a
/// database name, a password (the same constraints the MySQL rules apply to
/// literal values). Run before Docker is touched, by the server and the form.
pub fn check_usage(spec: &Spec, key: &str, value: &str) -> Result<(), String> {
    for env in env_uses(spec, key) {
        let env = env.to_ascii_uppercase();
        let is_user =
            env.ends_with("_USER") && (env.starts_with("MYSQL_") || env.starts_with("MARIADB_"));
        let is_database = env == "MYSQL_DATABASE" || env == "MARIADB_DATABASE";
        let is_password = env.ends_with("_PASSWORD")
            && (env.starts_with("MYSQL_") || env.starts_with("MARIADB_"));
        if is_user {
            if value.is_empty() {
                return Err(format!("is used as {env} and cannot be empty"));
            }
            if (env == "MYSQL_USER" || env == "MARIADB_USER") && value.eq_ignore_ascii_case("root")
            {
                return Err(format!(
                    "is used as {env} and cannot be `root`: the image creates `root` itself; pick another user name"
                ));
            }
            if value.chars().count() > 32 {
                return Err(format!(
                    "is used as {env}: MySQL user names have at most 32 characters"
                ));
            }
            if !value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
            {
                return Err(format!(
                    "is used as {env}: a user name here is letters, digits, `_`, `-` and `.`"
                ));
            }
        }
        if is_database {
            if value.is_empty() {
                return Err(format!("is used as {env} and cannot be empty"));
            }
            if value.chars().count() > 64 {
                return Err(format!(
                    "is used as {env}: MySQL database names have at most 64 characters"
                ));
            }
            if !value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '$'))
            {
                return Err(format!(
                    "is used as {env}: a database name here is letters, digits, `_`, `-` and `$`"
                ));
            }
        }
        if is_password && value.is_empty() {
            return Err(format!("is used as {env} and cannot be empty"));
        }
    }
    Ok(())
}

/// Whether a key names a password-like value (`mysqlRootPassword`, `DB_PASS`).
pub fn looks_like_password(key: &str) -> bool {
    let lower = key.to_ascii_lowercase();
    [
        "password", "passwd", "pwd", "secret", "token", "apikey", "api_key",
    ]
    .iter()
    .any(|w| lower.contains(w))
        || lower.ends_with("pass")
        || lower.ends_with("_pass")
}

fn redact_message(message: &str, value: &str) -> String {
    if value.is_empty() {
        return message.to_owned();
    }
    message
        .replace(&shorten(value), "***")
        .replace(value, "***")
}
