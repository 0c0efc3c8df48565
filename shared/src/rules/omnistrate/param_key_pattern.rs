use crate::declare_rule;
use crate::rules::{Context, Rule, Sink};

declare_rule! {
    /// ## What
    /// An API parameter `key` that does not match `^[a-zA-Z][a-zA-Z0-9_]*$`:
    /// it must start with a letter and hold only letters, digits and `_`.
    ///
    /// ## Why
    /// The platform's API rejects other keys, and templates read a key as
    /// `$var.<key>`: a `-` or `.` would end the reference early.
    ///
    /// ## Example
    /// ```yaml
    /// x-omnistrate-api-params:
    ///   - key: read-replicas   # readReplicas
    /// ```
    pub struct ApiParamKeyPattern {
        code: "O010",
        name: "api-param-key-pattern",
        severity: Error,
        layer: Omnistrate,
        summary: "An API parameter key has characters the platform rejects",
        help: "Start the key with a letter and use only letters, digits and `_` (e.g. `readReplicas`).",
        fixable: false,
    }
}

/// `^[a-zA-Z][a-zA-Z0-9_]*$`
pub(super) fn is_valid_key(key: &str) -> bool {
    let mut chars = key.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

impl Rule for ApiParamKeyPattern {
    fn check(&self, ctx: &Context, sink: &mut Sink) {
        for service in &ctx.spec.services {
            for param in &service.api_params {
                let Some(key) = &param.key else { continue };
                if is_valid_key(&key.value) {
                    continue;
                }
                let message = if key.value.is_empty() {
                    "API parameter key is empty".to_owned()
                } else if !key.value.starts_with(|c: char| c.is_ascii_alphabetic()) {
                    format!("API parameter key `{}` must start with a letter", key.value)
                } else {
                    let bad: String = key
                        .value
                        .chars()
                        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_'))
                        .map(String::from)
                        .unwrap_or_default();
                    format!(
                        "API parameter key `{}` contains `{bad}`; only letters, digits and `_` are allowed",
                        key.value
                    )
                };
                sink.at(key.node, message);
            }
        }
    }
}
