//! Secrets hygiene rules.

mod exported_secret_parameter;
mod literal_password;

use super::Rule;

pub use exported_secret_parameter::ExportedSecretParameter;
pub use literal_password::LiteralPassword;

/// The api-param key derived from an env var name (`MYSQL_PASSWORD` → `mysqlPassword`).
pub(crate) use literal_password::param_key;

pub const RULES: &[&dyn Rule] = &[&LiteralPassword, &ExportedSecretParameter];
