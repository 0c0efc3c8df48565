//! [`ReconcileError`]: why a reconcile step (or one of its parts) failed.
//! Its message is what the deployment's `error` event and stored message
//! say (redacted by the hub).

use crate::docker::EngineError;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    #[error("docker is not reachable from this server")]
    NoEngine,
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("spec {0} is missing from the store")]
    SpecMissing(String),
    /// The stored record no longer plans (the planner's messages).
    #[error("{0}")]
    Plan(String),
    /// An engine call failed while doing `what`.
    #[error("{what}: {source}")]
    Engine { what: String, source: EngineError },
    #[error("{}", super::missing_image_message(.image, .source))]
    Image { image: String, source: EngineError },
    /// A newer request took over; the next run decides.
    #[error("superseded by a newer request")]
    Superseded,
    /// The deployment's endpoints could not be bound.
    #[error("{0}")]
    Endpoints(String),
    /// A container did not become ready, replicate or catch up.
    #[error("{0}")]
    NotReady(String),
    /// Several parts of one step failed.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Several(Vec<ReconcileError>),
}

impl ReconcileError {
    /// `map_err` for an engine call: `engine("creating the network")`.
    pub fn engine(what: impl Into<String>) -> impl FnOnce(EngineError) -> ReconcileError {
        let what = what.into();
        move |source| ReconcileError::Engine { what, source }
    }

    pub fn is_superseded(&self) -> bool {
        matches!(self, ReconcileError::Superseded)
    }
}
