//! Container engines: the [`Engine`] trait the controller drives, its Docker
//! implementation ([`DockerEngine`]), what an engine reports ([`Observed`],
//! [`ContainerState`], [`UsageSample`]) and the shared MySQL socket
//! directories. Tests drive the controller with the in-memory `FakeEngine`.
//!
//! - `engine.rs`: the trait (one place to add an engine: Swarm next).
//! - `daemon.rs`: bollard calls; `create.rs`: one container's body.
//! - `observe.rs`: observation types; `socket.rs`: socket directories.

mod create;
mod daemon;
mod engine;
#[cfg(any(test, feature = "fake-engine"))]
pub mod fake;
mod observe;
mod socket;

pub(crate) use create::{healthcheck, ulimits};
pub use daemon::DockerEngine;
pub(crate) use daemon::{follow_logs, tail_logs, usage_of};
pub use engine::{Engine, LostContainer};
pub use observe::{ContainerState, Observed, ObservedContainer, UsageSample};
pub use socket::{remove_socket_dir, shared_socket, socket_dir, SOCKET_GROUP, SOCKET_ROOT};

use bollard::errors::Error as DockerError;

/// Why an engine call failed.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("docker: {0}")]
    Docker(#[from] DockerError),
    #[error("{0}")]
    Other(String),
}

impl EngineError {
    pub fn is_not_found(&self) -> bool {
        matches!(
            self,
            EngineError::Docker(DockerError::DockerResponseServerError {
                status_code: 404,
                ..
            })
        )
    }

    fn is_conflict(&self) -> bool {
        matches!(
            self,
            EngineError::Docker(DockerError::DockerResponseServerError {
                status_code: 409,
                ..
            })
        )
    }
}
