//! The deployment event stream (`GET /api/deployments/{id}/events`, SSE).
//!
//! Each server-sent event is named after its [`EventKind`] (`event: step`)
//! and carries one [`Event`] as JSON in `data:`. These four names are the
//! only ones the server sends.

use serde::{Deserialize, Serialize};

use super::Status;

/// What an event tells.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum EventKind {
    /// A progress step ("network … created", "container … started").
    Step,
    /// The deployment reached a status: `message` is a [`Status`] name, or
    /// `deleted` once its deletion completed (the stream then ends).
    Status,
    /// A reconcile step failed: `message` says why.
    Error,
    /// One line of a container's output (secrets redacted).
    Log,
}

impl EventKind {
    pub const ALL: [EventKind; 4] = [
        EventKind::Step,
        EventKind::Status,
        EventKind::Error,
        EventKind::Log,
    ];

    /// The SSE event name (and the stored kind).
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Step => "step",
            EventKind::Status => "status",
            EventKind::Error => "error",
            EventKind::Log => "log",
        }
    }

    pub fn from_name(s: &str) -> Option<EventKind> {
        EventKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl std::fmt::Display for EventKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One event of a deployment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Event {
    /// Increasing per server; the SSE `id` (send it back as `Last-Event-ID`).
    pub seq: i64,
    #[serde(rename = "deploymentId")]
    pub deployment_id: String,
    /// Milliseconds since the Unix epoch.
    pub ts: i64,
    pub kind: EventKind,
    pub message: String,
}

/// What a [`EventKind::Status`] event announces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatusChange {
    To(Status),
    /// The deletion completed: the deployment no longer exists.
    Deleted,
}

impl Event {
    /// The status change a `status` event announces (`None` for other kinds
    /// or an unknown name).
    pub fn status_change(&self) -> Option<StatusChange> {
        if self.kind != EventKind::Status {
            return None;
        }
        match self.message.as_str() {
            "deleted" => Some(StatusChange::Deleted),
            s => Status::from_name(s).map(StatusChange::To),
        }
    }

    /// The last event of a stream: the deployment was deleted.
    pub fn ends_stream(&self) -> bool {
        self.status_change() == Some(StatusChange::Deleted)
    }
}
