//! What the planner produces: the desired stack (containers, volumes,
//! start order, policies) and why a plan can fail.

#[allow(unused_imports)]
use super::*;

/// How the provisioner may talk to a container's service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Probe {
    /// MySQL protocol: root credentials for pings and replication checks;
    /// `replica` when it runs in slave mode.
    Mysql {
        user: String,
        password: String,
        replica: bool,
    },
    /// Only a TCP connect is possible.
    Tcp,
    /// No port: running is ready.
    None,
}

#[derive(Clone, Debug)]
pub struct DesiredVolume {
    pub name: String,
    pub target: String,
}

/// A volume of another container of the deployment (`volumes_from`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SharedVolume {
    pub name: String,
    pub target: String,
    pub read_only: bool,
}

#[derive(Clone, Debug)]
pub struct DesiredContainer {
    pub name: String,
    pub resource: String,
    pub replica: u32,
    pub image: String,
    pub source_image: String,
    pub env: Vec<(String, String)>,
    pub volumes: Vec<DesiredVolume>,
    pub ports: Vec<u16>,
    pub aliases: Vec<String>,
    pub nano_cpus: Option<i64>,
    pub memory: Option<i64>,
    pub probe: Probe,
    /// Compose `entrypoint` (templates resolved); `None`: the image's.
    pub entrypoint: Option<Vec<String>>,
    /// Compose `command` (templates resolved); `None`: the image's.
    pub command: Option<Vec<String>>,
    /// Zone label (`enableMultiZone`): zones are labels on one Docker host.
    pub zone: Option<String>,
    /// A warm spare of an autoscaled service: created and initialised, then
    /// kept stopped until a scale-up starts it (not in the config hash, so
    /// the spare that becomes a replica is the same container).
    pub spare: bool,
    /// The compose keys applied to Docker (`runtime_opts`).
    pub opts: std::sync::Arc<crate::runtime_opts::RuntimeOptions>,
    /// Docker `PidsLimit`.
    pub pids_limit: i64,
    /// `network_mode: service:…`: the container of this deployment whose
    /// network namespace this one joins (no network, ports or aliases of
    /// its own).
    pub network_of: Option<String>,
    /// `volumes_from`: another service's volumes, mounted here but created
    /// and removed with that service's container, never with this one.
    pub shared_volumes: Vec<SharedVolume>,
    pub config_hash: String,
}

impl DesiredContainer {
    pub fn labels(&self, deployment: &str) -> BTreeMap<String, String> {
        let mut l = base_labels(deployment);
        l.insert(LABEL_RESOURCE.into(), self.resource.clone());
        l.insert(LABEL_REPLICA.into(), self.replica.to_string());
        l.insert(LABEL_CONFIG.into(), self.config_hash.clone());
        if let Some(z) = &self.zone {
            l.insert(LABEL_ZONE.into(), z.clone());
        }
        l
    }
}

/// When a service's containers may be created: once every container of the
/// services in `after` runs, and those in `after_ready` are also ready.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StartStep {
    /// The service (resource name, as in [`DesiredContainer::resource`]).
    pub resource: String,
    /// Services with containers that must be started first (`depends_on`,
    /// templates and resource links, followed through passive services).
    pub after: Vec<String>,
    /// Of those, the ones that must also be ready (SQL ping, replication):
    /// `depends_on` with `condition: service_healthy`. Other dependents only
    /// need the container to exist and run (its network alias resolves); a
    /// MySQL replica waits for its master by itself, as compose would.
    pub after_ready: Vec<String>,
}

impl StartStep {
    /// "Db ready, Cache started": what the step waits for, for events.
    pub fn waits_description(&self) -> String {
        self.after
            .iter()
            .map(|d| {
                let how = if self.after_ready.contains(d) {
                    "ready"
                } else {
                    "started"
                };
                format!("{d} {how}")
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// `serverlessConfiguration` of a service, as the server applies it.
#[derive(Clone, Debug, PartialEq)]
pub struct ServerlessPolicy {
    pub auto_stop: bool,
    /// `minimumNodesInPool`: instances kept created (stopped, data directory
    /// initialised) while the deployment sleeps; the others are removed and
    /// recreated on wake (their volumes are always kept).
    pub warm_pool: u32,
}

/// `autoscaling` of a service; minutes are scaled by the server's
/// `--autoscale-minute-secs`.
#[derive(Clone, Debug, PartialEq)]
pub struct AutoscalePolicy {
    pub min_replicas: u32,
    pub max_replicas: u32,
    pub idle_threshold: f64,
    pub idle_minutes: f64,
    pub over_threshold: f64,
    pub over_minutes: f64,
}

/// What the server does around a service's containers: its endpoints,
/// serverless behaviour and autoscaling.
#[derive(Clone, Debug, PartialEq)]
pub struct ServicePolicy {
    pub resource: String,
    /// Network alias (also the container-name stem).
    pub alias: String,
    /// The container port the service's endpoints forward to (the
    /// serverless `targetPort`, else the first port); `None`: no endpoint.
    pub port: Option<u16>,
    /// Instances running now (the replica-count param, or the autoscaler's
    /// count when it has moved it).
    pub replicas: u32,
    /// Warm spares after them (`minimumNodesInPool` of an autoscaled
    /// service, within `maxReplicas`): the next scale-up only starts one.
    pub spares: u32,
    /// `enableEndpointPerReplica`: a stable endpoint per replica as well.
    pub endpoint_per_replica: bool,
    pub serverless: Option<ServerlessPolicy>,
    pub autoscaling: Option<AutoscalePolicy>,
    pub multi_zone: bool,
    /// Indices of the compose `volumes` entries that become a named volume
    /// of each container ([`volume_name`]).
    pub volume_mounts: Vec<usize>,
}

/// The whole desired stack of a deployment, in creation order.
#[derive(Clone, Debug)]
pub struct DesiredStack {
    pub deployment: String,
    pub network: String,
    pub containers: Vec<DesiredContainer>,
    /// Every service that runs containers, dependencies first.
    pub start_order: Vec<StartStep>,
    /// One per service that runs containers, in start order.
    pub services: Vec<ServicePolicy>,
    /// `omnistrateLogging` (or `x-customer-integrations.logs`): keep logs.
    pub logging: bool,
    /// `omnistrateMetrics` (or `x-customer-integrations.metrics`).
    pub metrics: bool,
}

/// Server-side inputs of [`plan_with`] beyond the spec and its params.
#[derive(Clone, Debug, Default)]
pub struct PlanContext<'a> {
    pub images: Option<&'a ImageMap>,
    pub host_cpus: f64,
    /// Zone names for `enableMultiZone` services (round-robin by replica).
    pub zones: &'a [String],
    /// Replica counts set by the autoscaler, by service.
    pub replica_overrides: Option<&'a BTreeMap<String, u32>>,
    /// Host-escaping compose keys the operator allowed (`--allow-host-key`).
    pub allowed_host_keys: Option<&'a BTreeSet<String>>,
}

impl DesiredStack {
    /// The policy of a service.
    pub fn service(&self, resource: &str) -> Option<&ServicePolicy> {
        self.services.iter().find(|s| s.resource == resource)
    }

    /// The containers that serve (every one but the warm spares).
    pub fn active(&self) -> impl Iterator<Item = &DesiredContainer> {
        self.containers.iter().filter(|c| !c.spare)
    }

    /// The warm spares of autoscaled services.
    pub fn spares(&self) -> impl Iterator<Item = &DesiredContainer> {
        self.containers.iter().filter(|c| c.spare)
    }

    /// The stable endpoints the server listens on: one per service with a
    /// port (a replica service's is the reader endpoint), and one per replica
    /// with `enableEndpointPerReplica`.
    pub fn endpoint_specs(&self) -> Vec<EndpointSpec> {
        let mut out = Vec::new();
        for s in &self.services {
            if s.port.is_none() || s.replicas == 0 {
                continue;
            }
            out.push(EndpointSpec {
                name: s.resource.clone(),
                resource: s.resource.clone(),
                replica: None,
            });
            if s.endpoint_per_replica {
                for r in 0..s.replicas {
                    out.push(EndpointSpec {
                        name: format!("{}-{r}", s.resource),
                        resource: s.resource.clone(),
                        replica: Some(r),
                    });
                }
            }
        }
        out
    }

    /// Whether the deployment stops when idle: every service that runs
    /// containers asks for it (a service that did not is never stopped, and
    /// services are linked, so the deployment sleeps as a whole), and it has
    /// an endpoint a client can wake it through.
    pub fn auto_stop(&self) -> bool {
        let running: Vec<_> = self.services.iter().filter(|s| s.replicas > 0).collect();
        running.iter().any(|s| s.port.is_some())
            && running
                .iter()
                .all(|s| s.serverless.as_ref().is_some_and(|p| p.auto_stop))
    }

    /// The start step of a service.
    pub fn step(&self, resource: &str) -> Option<&StartStep> {
        self.start_order.iter().find(|s| s.resource == resource)
    }

    /// Every value that must never leave the server (for redaction).
    pub fn secret_values(&self) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for c in &self.containers {
            for (k, v) in &c.env {
                if shared::params::looks_like_password(k) && !v.is_empty() {
                    out.insert(v.clone());
                }
            }
        }
        out
    }
}

/// What can be wrong with a deployment request beyond its params.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PlanIssue {
    UnknownInstanceType {
        service: String,
        param: Option<String>,
        value: String,
        known: Vec<&'static str>,
    },
    ReplicaCount {
        service: String,
        value: String,
        message: String,
    },
    HostPath {
        service: String,
        source: String,
    },
    NoImage {
        service: String,
    },
    TooManyContainers {
        count: usize,
        max: usize,
    },
    /// `command`/`entrypoint` of a shape Docker cannot run.
    Command {
        service: String,
        field: String,
        message: String,
    },
    Unresolved(Unresolved),
    /// A compose key the server refuses, or a value Docker cannot take.
    ComposeKey {
        service: String,
        key: String,
        message: String,
        /// JSON pointer of the key's value (`/services/W/network_mode`).
        path: String,
    },
    /// An image reference Docker would refuse (after `--image-map`).
    InvalidImage {
        service: String,
        image: String,
        message: String,
    },
}

impl PlanIssue {
    pub fn message(&self) -> String {
        match self {
            PlanIssue::UnknownInstanceType { service, value, .. } => {
                format!("{service}: unknown instance type `{value}`")
            }
            PlanIssue::ReplicaCount { service, message, .. } => format!("{service}: {message}"),
            PlanIssue::HostPath { service, source } => format!(
                "{service}: host path `{source}` cannot be mounted; use a relative bind or a named volume"
            ),
            PlanIssue::NoImage { service } => format!("{service}: has no image"),
            PlanIssue::TooManyContainers { count, max } => format!(
                "the deployment would run {count} containers; this server runs at most {max} per deployment"
            ),
            PlanIssue::Command {
                service,
                field,
                message,
            } => format!("{service}: `{field}` {message}"),
            PlanIssue::Unresolved(u) => format!(
                "{} {}: cannot resolve `{}`: {}",
                u.service, u.via, u.reference, u.message
            ),
            PlanIssue::ComposeKey {
                service,
                key,
                message,
                path,
            } => format!("{service}: `{key}` {message} (at `{path}`)"),
            PlanIssue::InvalidImage {
                service,
                image,
                message,
            } => format!("{service}: image `{image}` is not a valid reference: {message}"),
        }
    }
}

/// An endpoint the deployment should have (the proxy listens for it).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct EndpointSpec {
    /// `Master`, `Replica` (reader), `Replica-1` (one replica).
    pub name: String,
    pub resource: String,
    /// `Some` for a per-replica endpoint.
    pub replica: Option<u32>,
}

impl EndpointSpec {
    pub fn kind(&self) -> shared::wire::EndpointKind {
        if self.replica.is_some() {
            shared::wire::EndpointKind::Replica
        } else {
            shared::wire::EndpointKind::Service
        }
    }
}
