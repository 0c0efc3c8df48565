//! The JSON contract between `specstudio serve` and its clients (the page,
//! scripts): every request, response and event body of the HTTP API, with
//! `Serialize` *and* `Deserialize`, so that the server writes and the page
//! reads the same types instead of guessing keys in a `serde_json::Value`.
//!
//! The shapes (field names, casing, omitted empties) are the API's as
//! documented by `GET /api/openapi.json`: with the `openapi` feature the
//! types also derive `utoipa::ToSchema`, and the server's document is built
//! from them.
//!
//! ```
//! use shared::wire::{Event, EventKind};
//! let e: Event = serde_json::from_str(
//!     r#"{"seq":3,"deploymentId":"d1","ts":0,"kind":"status","message":"running"}"#,
//! ).unwrap();
//! assert_eq!(e.kind, EventKind::Status);
//! ```

mod deployments;
mod error;
mod events;
mod lint;
mod specs;

pub use deployments::{
    Accepted, AutoscalingView, ContainerView, CreateDeployment, DeploymentSummary, DeploymentView,
    Endpoint, EndpointKind, Orphan, PatchDeployment, ReplicationView, ServerlessView, Status,
};
pub use error::{ErrorBody, ErrorDetail};
pub use events::{Event, EventKind, StatusChange};
pub use lint::{
    LintDiagnostic, LintEdit, LintFile, LintFix, LintPosition, LintRange, LintReport, LintSummary,
};
pub use specs::{Health, SpecCreated, StoredSpec};

#[cfg(test)]
mod tests;
