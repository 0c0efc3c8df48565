//! The error body of every failed API call.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `{"error":{"code","message","details"}}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorDetail {
    /// A stable machine-readable code (`invalid_params`, `not_found`…).
    pub code: String,
    pub message: String,
    /// More about the error (e.g. the lint report of an invalid spec, or
    /// `{"issues": [...]}`), or null.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub details: Value,
}

impl ErrorBody {
    pub fn new(code: impl Into<String>, message: impl Into<String>, details: Value) -> Self {
        ErrorBody {
            error: ErrorDetail {
                code: code.into(),
                message: message.into(),
                details,
            },
        }
    }

    /// The `details.issues` list of an `invalid_params` error, typed.
    pub fn param_issues(&self) -> Vec<crate::params::ParamIssue> {
        self.error
            .details
            .get("issues")
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .unwrap_or_default()
    }
}
