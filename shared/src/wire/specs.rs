//! `/api/specs` and `/healthz` bodies.

use serde::{Deserialize, Serialize};

use super::{LintDiagnostic, LintSummary};

/// `201` of `POST /api/specs`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SpecCreated {
    pub id: String,
    pub url: String,
}

/// `GET /api/specs/{id}`: a stored spec with its diagnostics.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StoredSpec {
    pub id: String,
    /// The text as shown (literal secrets masked).
    pub text: String,
    /// The lint diagnostics of the spec (as in the lint JSON report).
    pub diagnostics: Vec<LintDiagnostic>,
    pub summary: LintSummary,
}

/// `GET /healthz`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Health {
    /// `ok`, or `database_lost` (503) when the database file vanished or was
    /// replaced under the running server.
    pub status: String,
    pub docker: bool,
}
