//! The lint JSON report (`POST /api/validate`, `specstudio lint --format
//! json`, the `details` of an `invalid_spec` error) as owned, readable
//! types. [`crate::output`] writes it; these read it back byte for byte.

use serde::{Deserialize, Serialize};

/// A 1-based line and column (columns in Unicode scalar values).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LintPosition {
    pub line: usize,
    pub column: usize,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LintRange {
    pub start: LintPosition,
    pub end: LintPosition,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LintEdit {
    pub range: LintRange,
    #[serde(rename = "newText")]
    pub new_text: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LintFix {
    pub title: String,
    pub edits: Vec<LintEdit>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LintDiagnostic {
    pub code: String,
    /// `error`, `warning` or `info`.
    pub severity: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    /// The key path (`services/db/image`).
    pub path: String,
    pub range: LintRange,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix: Option<LintFix>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LintFile {
    pub path: String,
    pub diagnostics: Vec<LintDiagnostic>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LintSummary {
    pub errors: usize,
    pub warnings: usize,
    pub infos: usize,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LintReport {
    pub files: Vec<LintFile>,
    pub summary: LintSummary,
}
