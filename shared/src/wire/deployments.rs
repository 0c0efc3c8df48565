//! `/api/deployments` bodies.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `POST /api/deployments`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateDeployment {
    /// The spec text (or use `specId`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec: Option<String>,
    /// A stored spec's id (from `POST /api/specs`).
    #[serde(rename = "specId", default, skip_serializing_if = "Option::is_none")]
    pub spec_id: Option<String>,
    /// One flat map of parameter values: a key several services declare applies to each.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub params: BTreeMap<String, Value>,
}

/// `PATCH /api/deployments/{id}`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PatchDeployment {
    /// Modifiable parameters to change.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub params: BTreeMap<String, Value>,
}

/// `202 Accepted`: the change is recorded and the controller is on it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Accepted {
    pub id: String,
    pub url: String,
    /// Secrets the server generated for this deployment (param key → value),
    /// in the `POST /api/deployments` answer only: they are shown to the
    /// person who deployed, once, and never again (not in views, lists,
    /// events or logs).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub generated: BTreeMap<String, String>,
}

/// The status last reached by reconciliation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Provisioning,
    Running,
    Degraded,
    Stopping,
    Stopped,
    Waking,
    Failed,
    Deleting,
    /// Containers frozen (`docker pause`): the paused tier.
    Paused,
}

impl Status {
    pub const ALL: [Status; 9] = [
        Status::Provisioning,
        Status::Running,
        Status::Degraded,
        Status::Stopping,
        Status::Stopped,
        Status::Waking,
        Status::Failed,
        Status::Deleting,
        Status::Paused,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Provisioning => "provisioning",
            Status::Running => "running",
            Status::Degraded => "degraded",
            Status::Stopping => "stopping",
            Status::Stopped => "stopped",
            Status::Waking => "waking",
            Status::Failed => "failed",
            Status::Deleting => "deleting",
            Status::Paused => "paused",
        }
    }

    /// The status named `s`, if it is one.
    pub fn from_name(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// A stored status name; an unknown one reads as `provisioning` (the
    /// next reconcile sets the real one).
    pub fn parse(s: &str) -> Status {
        Status::from_name(s).unwrap_or(Status::Provisioning)
    }
}

/// One container of a deployment.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ContainerView {
    pub name: String,
    pub resource: String,
    pub replica: u32,
    /// Docker state (`running`, `exited`…) or `missing`.
    pub state: String,
    /// Zone (`enableMultiZone`): a label on one Docker host; on a swarm,
    /// the zone of the node the container runs on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
    /// The swarm node it runs on (`None` on one Docker host).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// The container's own port published on the loopback address (changes
    /// when the container restarts; clients use `endpoints`).
    #[serde(rename = "hostPort", default, skip_serializing_if = "Option::is_none")]
    pub host_port: Option<u16>,
    /// Takes new connections from the endpoints (ready, caught up, not draining).
    pub routable: bool,
    /// CPU as a percent of the container's CPU limit (Docker stats).
    #[serde(
        rename = "cpuPercent",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub cpu_percent: Option<f64>,
    #[serde(
        rename = "memoryBytes",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub memory_bytes: Option<u64>,
}

/// What an endpoint routes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum EndpointKind {
    /// One per service: the master's endpoint, or a replica service's
    /// reader endpoint.
    Service,
    /// One per replica (`enableEndpointPerReplica`).
    Replica,
}

/// A stable endpoint the server listens on for the deployment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Endpoint {
    /// `Master`, `Replica` (reader), `Replica-1`.
    pub name: String,
    pub kind: EndpointKind,
    pub resource: String,
    /// The replica, for a per-replica endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replica: Option<u32>,
    pub host: String,
    pub port: u16,
    /// Connections accepted so far.
    pub connections: u64,
    /// Connections open (or held while the deployment wakes).
    pub active: u64,
}

/// Auto-stop state of a deployment with a `serverlessConfiguration`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ServerlessView {
    /// Every service enables `enableAutoStop`: the deployment sleeps when idle.
    #[serde(rename = "autoStop")]
    pub auto_stop: bool,
    #[serde(rename = "idleStopAfterSecs")]
    pub idle_stop_after_secs: u64,
    /// Seconds since the last client connection ended (0 while one is open).
    #[serde(rename = "idleSecs")]
    pub idle_secs: f64,
    pub wakes: u64,
    pub stops: u64,
}

/// An autoscaled service's policy and load.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AutoscalingView {
    pub resource: String,
    pub replicas: u32,
    #[serde(rename = "minReplicas")]
    pub min_replicas: u32,
    #[serde(rename = "maxReplicas")]
    pub max_replicas: u32,
    /// Mean CPU (percent of limit) of the replicas taking connections.
    #[serde(
        rename = "cpuPercent",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub cpu_percent: Option<f64>,
}

/// Replication threads of one MySQL replica.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReplicationView {
    pub resource: String,
    pub replica: u32,
    pub container: String,
    /// Both replication threads run.
    pub healthy: bool,
    #[serde(rename = "ioRunning")]
    pub io_running: bool,
    #[serde(rename = "sqlRunning")]
    pub sql_running: bool,
    #[serde(
        rename = "secondsBehindMaster",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub seconds_behind_master: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// `GET /api/deployments/{id}`: one deployment, observed now.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeploymentView {
    pub id: String,
    pub status: Status,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(rename = "specId")]
    pub spec_id: String,
    #[serde(rename = "createdAt")]
    pub created_at: i64,
    #[serde(rename = "updatedAt")]
    pub updated_at: i64,
    /// A master's data volume vanished: the deployment waits for an explicit
    /// `POST /api/deployments/{id}/reseed`.
    #[serde(rename = "needsReseed")]
    pub needs_reseed: bool,
    pub containers: Vec<ContainerView>,
    /// Warm spares of autoscaled services (`minimumNodesInPool`): created,
    /// initialised and stopped until a scale-up starts one.
    pub spares: Vec<ContainerView>,
    pub endpoints: Vec<Endpoint>,
    pub replication: Vec<ReplicationView>,
    /// Auto-stop state, for deployments with a `serverlessConfiguration`.
    pub serverless: Option<ServerlessView>,
    pub autoscaling: Vec<AutoscalingView>,
    /// Parameter values, without any secret or `export: false` parameter.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub params: BTreeMap<String, String>,
}

/// One item of `GET /api/deployments`: everything the deployments list
/// shows, from one store query and one engine listing (no per-item call, and
/// no replication probe: `status` is the reconciled one, corrected by the
/// containers' states only).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeploymentSummary {
    pub id: String,
    pub status: Status,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(rename = "specId")]
    pub spec_id: String,
    #[serde(rename = "createdAt")]
    pub created_at: i64,
    /// A master's data volume vanished and the deployment waits for an
    /// explicit `POST /api/deployments/{id}/reseed`.
    #[serde(rename = "needsReseed")]
    pub needs_reseed: bool,
    /// Serving containers, as in the deployment's view (without CPU figures
    /// of stopped ones).
    #[serde(default)]
    pub containers: Vec<ContainerView>,
    /// Warm spares of autoscaled services.
    #[serde(default)]
    pub spares: Vec<ContainerView>,
    #[serde(default)]
    pub endpoints: Vec<Endpoint>,
    /// Auto-stop state, for deployments with a `serverlessConfiguration`.
    #[serde(default)]
    pub serverless: Option<ServerlessView>,
    /// Parameter values, without any secret or `export: false` parameter.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub params: BTreeMap<String, String>,
}

/// Labelled Docker objects of this server that no deployment record owns
/// (`GET /api/orphans`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Orphan {
    /// The `org.specstudio.deployment` label.
    pub deployment: String,
    /// Container ids.
    pub containers: Vec<String>,
    /// Volume names (the data).
    pub volumes: Vec<String>,
    pub networks: Vec<String>,
}
