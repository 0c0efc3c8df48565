//! [`SwarmEngine`]: the controller's [`Engine`] on a Docker Swarm.
//!
//! One instance (a container on one host) is one single-task service
//! (`swarm::mapping`); the deployment's network is an attachable overlay.
//! Services, tasks, nodes and networks are the manager's; containers,
//! volumes, logs and stats are the node daemons' (`--swarm-node`).
//!
//! Endpoints: the proxy reaches every backend on one host, so the engine
//! gives each instance port a **relay** on `127.0.0.1` that forwards to the
//! task's host-mode port on its node's address (re-read on every
//! `host_ports`, so a task that moved is followed; the loopback port stays).
//! Pause is not supported (the swarm does not know it): a typed error.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use bollard::models::{
    SecretSpec, ServiceSpecMode, ServiceSpecModeReplicated, TaskSpecContainerSpecFile,
    TaskSpecContainerSpecSecrets, TaskState,
};
use bollard::query_parameters::{
    InspectServiceOptions, ListContainersOptions, ListSecretsOptionsBuilder, ListServicesOptions,
    ListTasksOptions, ListVolumesOptions, RemoveContainerOptions, RemoveVolumeOptions,
};
use bollard::Docker;
use futures_util::stream::{BoxStream, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tracing::{debug, warn};

use super::health::lost_instances;
use super::mapping::{
    instance_service, overlay_network, spread_zones, InstanceInput, Placement, PortInput,
};
use super::nodes::{self, list_nodes, running_task, NodeEndpoint, SwarmError, SwarmNode};
use super::secrets::{base64, file_secrets, FileSecret};
use crate::docker::{follow_logs, tail_logs, usage_of};
use crate::docker::{
    ContainerState, Engine, EngineError, LostContainer, Observed, ObservedContainer, UsageSample,
};
use crate::plan::{
    base_labels, DesiredContainer, DesiredStack, LABEL_CONFIG, LABEL_DEPLOYMENT, LABEL_INSTANCE,
    LABEL_MANAGED_BY, LABEL_REPLICA, LABEL_RESOURCE, MANAGED_BY,
};

/// The only address relays listen on.
const RELAY_HOST: &str = "127.0.0.1";

/// The label naming the instance a swarm secret belongs to.
const LABEL_SECRET_OF: &str = "org.specstudio.secret-of";

/// The label the swarm puts on every task container.
const SERVICE_NAME_LABEL: &str = "com.docker.swarm.service.name";

/// How long a removal waits for task containers to stop by themselves
/// (their stop grace), and then for a forced removal to finish.
const CONTAINERS_GONE: Duration = Duration::from_secs(30);

/// A loopback listener forwarding to an instance port on its node.
struct Relay {
    port: u16,
    target: Arc<Mutex<Option<SocketAddr>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub struct SwarmEngine {
    manager: Docker,
    /// Node hostname → its daemon (images, volumes, logs, stats).
    nodes: Vec<(String, Docker)>,
    instance: String,
    /// (service, container port) → relay.
    relays: Mutex<HashMap<(String, u16), Relay>>,
    /// Services known to carry their `node.id` constraint.
    pinned: Mutex<HashSet<String>>,
    /// Deployment → placement notes not yet taken for its events.
    notes: Mutex<HashMap<String, BTreeSet<String>>>,
}

fn other(e: SwarmError) -> EngineError {
    match e {
        SwarmError::Docker(d) => EngineError::Docker(d),
        e => EngineError::Other(e.to_string()),
    }
}

fn not_found(e: &bollard::errors::Error) -> bool {
    matches!(
        e,
        bollard::errors::Error::DockerResponseServerError {
            status_code: 404,
            ..
        }
    )
}

/// The planner's container as the mapping's input: the one place this
/// module reads the planner's types (re-path it when the planner moves).
pub fn instance_input(c: &DesiredContainer, labels: BTreeMap<String, String>) -> InstanceInput {
    InstanceInput {
        name: c.name.clone(),
        image: c.image.clone(),
        env: c.env.clone(),
        // the hostname is the service name, so the image's default id
        // (derived from it) survives a replaced task
        server_id: None,
        volumes: c
            .volumes
            .iter()
            .map(|v| super::VolumeInput {
                name: v.name.clone(),
                target: v.target.clone(),
            })
            .collect(),
        ports: c
            .ports
            .iter()
            .map(|&target| PortInput {
                target,
                published: None,
            })
            .collect(),
        aliases: c.aliases.clone(),
        nano_cpus: c.nano_cpus,
        memory: c.memory,
        pids_limit: Some(c.pids_limit),
        entrypoint: c.entrypoint.clone(),
        command: c.command.clone(),
        labels,
        placement: c.zone.clone().map_or(Placement::Any, Placement::Zone),
        running: !c.spare,
        opts: c.opts.clone(),
    }
}

impl SwarmEngine {
    /// Reach the manager and every node daemon (each must answer).
    pub async fn connect(
        manager: &str,
        nodes: &[NodeEndpoint],
        instance: &str,
    ) -> Result<SwarmEngine, EngineError> {
        let manager = nodes::connect(manager).await.map_err(other)?;
        let mut daemons = Vec::new();
        for n in nodes {
            let d = nodes::connect(&n.docker_host)
                .await
                .map_err(|e| EngineError::Other(format!("swarm node `{}`: {e}", n.hostname)))?;
            daemons.push((n.hostname.clone(), d));
        }
        Ok(SwarmEngine {
            manager,
            nodes: daemons,
            instance: instance.to_owned(),
            relays: Mutex::new(HashMap::new()),
            pinned: Mutex::new(HashSet::new()),
            notes: Mutex::new(HashMap::new()),
        })
    }

    /// The daemons of the nodes the manager reports ready (all of them
    /// when the manager cannot say): a down node is skipped, not waited for.
    async fn ready_daemons(&self) -> Vec<(String, Docker)> {
        let Ok(listed) = list_nodes(&self.manager).await else {
            return self.nodes.clone();
        };
        self.nodes
            .iter()
            .filter(|(h, _)| listed.iter().any(|n| &n.hostname == h && n.ready))
            .cloned()
            .collect()
    }

    /// Task containers with `label` on the given nodes: (daemon, id).
    async fn node_containers(daemons: &[(String, Docker)], label: &str) -> Vec<(Docker, String)> {
        let lists = daemons.iter().map(|(node, d)| async move {
            let found = d
                .list_containers(Some(ListContainersOptions {
                    all: true,
                    filters: Some(HashMap::from([(
                        "label".to_owned(),
                        vec![label.to_owned()],
                    )])),
                    ..Default::default()
                }))
                .await;
            match found {
                Ok(list) => list
                    .into_iter()
                    .filter_map(|c| Some((d.clone(), c.id?)))
                    .collect(),
                Err(e) => {
                    warn!(%node, "swarm node containers not listed: {e}");
                    Vec::new()
                }
            }
        });
        futures_util::future::join_all(lists)
            .await
            .into_iter()
            .flatten()
            .collect()
    }

    /// After service removals: wait (bounded) until no container with
    /// `label` is left on a ready node. After `grace` what is left is
    /// force-removed (the removal was asked for; a slow stop must not keep
    /// its volume busy); after `grace` + [`CONTAINERS_GONE`] the wait ends.
    async fn wait_containers_gone(&self, label: &str, grace: Duration) {
        let daemons = self.ready_daemons().await;
        let started = Instant::now();
        loop {
            let left = Self::node_containers(&daemons, label).await;
            if left.is_empty() {
                return;
            }
            if started.elapsed() >= grace + CONTAINERS_GONE {
                warn!(%label, "{} task container(s) still on the nodes", left.len());
                return;
            }
            if started.elapsed() >= grace {
                for (d, id) in left {
                    let force = RemoveContainerOptions {
                        force: true,
                        ..Default::default()
                    };
                    // "removal already in progress" included: listed again
                    if let Err(e) = d.remove_container(&id, Some(force)).await {
                        debug!(%id, "task container not removed yet: {e}");
                    }
                }
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// Create (or find) the secrets of one instance; their references.
    async fn ensure_secrets(
        &self,
        deployment: &str,
        service: &str,
        secrets: &[FileSecret],
    ) -> Result<Vec<TaskSpecContainerSpecSecrets>, EngineError> {
        let mut refs = Vec::new();
        for s in secrets {
            let mut labels = self.labels(base_labels(deployment));
            labels.insert(LABEL_SECRET_OF.into(), service.into());
            let spec = SecretSpec {
                name: Some(s.name.clone()),
                labels: Some(labels.into_iter().collect()),
                data: Some(base64(s.value.as_bytes())),
                ..Default::default()
            };
            let id = match self.manager.create_secret(spec).await {
                Ok(r) => r.id,
                // made by an earlier, interrupted step: same name, same value
                Err(bollard::errors::Error::DockerResponseServerError {
                    status_code: 409, ..
                }) => self
                    .manager
                    .inspect_secret(&s.name)
                    .await?
                    .id
                    .unwrap_or_default(),
                Err(e) => return Err(e.into()),
            };
            refs.push(TaskSpecContainerSpecSecrets {
                file: Some(TaskSpecContainerSpecFile {
                    name: Some(s.name.clone()),
                    uid: Some("0".into()),
                    gid: Some("0".into()),
                    mode: Some(0o400),
                }),
                secret_id: Some(id),
                secret_name: Some(s.name.clone()),
            });
        }
        Ok(refs)
    }

    /// Remove the secrets with these labels (after their services: a
    /// secret in use cannot go; retried briefly while the manager catches up).
    async fn remove_secrets(&self, labels: &[(&str, &str)]) {
        let options = ListSecretsOptionsBuilder::default()
            .filters(&Self::filters(labels))
            .build();
        let listed = match self.manager.list_secrets(Some(options)).await {
            Ok(l) => l,
            Err(e) => {
                warn!("swarm secrets not listed: {e}");
                return;
            }
        };
        for secret in listed {
            let Some(id) = secret.id else { continue };
            for tries in 0.. {
                match self.manager.delete_secret(&id).await {
                    Ok(()) => break,
                    Err(e) if not_found(&e) => break,
                    Err(e) if tries >= 20 => {
                        warn!(%id, "swarm secret not removed: {e}");
                        break;
                    }
                    Err(_) => tokio::time::sleep(Duration::from_millis(250)).await,
                }
            }
        }
    }

    /// Delete one service (`Ok` when gone already) and drop its relays.
    async fn delete_service(&self, name: &str) -> Result<(), EngineError> {
        self.drop_relays(name);
        self.pinned
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(name);
        match self.manager.delete_service(name).await {
            Ok(()) => Ok(()),
            Err(e) if not_found(&e) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Add `node.id==<node>` to a running service's constraints (once):
    /// its data is in that node's local volume, so a rescheduled task must
    /// never start elsewhere, empty. Only the placement changes, and the
    /// node satisfies it, so the swarm keeps the running task.
    async fn pin(&self, name: &str, node_id: &str) {
        if self
            .pinned
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(name)
        {
            return;
        }
        let pinned = nodes::change_service(&self.manager, name, |spec| {
            let constraints = spec
                .task_template
                .get_or_insert_with(Default::default)
                .placement
                .get_or_insert_with(Default::default)
                .constraints
                .get_or_insert_with(Vec::new);
            if constraints.iter().any(|c| c.starts_with("node.id==")) {
                return false;
            }
            constraints.insert(0, format!("node.id=={node_id}"));
            true
        })
        .await;
        if let Err(e) = pinned {
            warn!(service = %name, "not pinned to its node yet: {e}");
            return;
        }
        debug!(service = %name, node = %node_id, "pinned to its node");
        self.pinned
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(name.to_owned());
    }

    fn labels(&self, mut l: BTreeMap<String, String>) -> BTreeMap<String, String> {
        l.insert(LABEL_INSTANCE.into(), self.instance.clone());
        l
    }

    fn filters(labels: &[(&str, &str)]) -> HashMap<String, Vec<String>> {
        HashMap::from([(
            "label".to_owned(),
            labels.iter().map(|(k, v)| format!("{k}={v}")).collect(),
        )])
    }

    /// Services by label, each with its observation.
    async fn observe_services(
        &self,
        labels: &[(&str, &str)],
    ) -> Result<Vec<(String, ObservedContainer)>, EngineError> {
        let services = self
            .manager
            .list_services(Some(ListServicesOptions {
                filters: Some(Self::filters(labels)),
                status: None,
            }))
            .await?;
        let listed: Option<Vec<SwarmNode>> = list_nodes(&self.manager).await.ok();
        let mut out = Vec::new();
        for s in services {
            let Some(spec) = s.spec else { continue };
            let name = spec.name.clone().unwrap_or_default();
            let l = spec.labels.clone().unwrap_or_default();
            let state = self.service_state(&name).await?;
            let ports = match state {
                Some((ContainerState::Running, _)) => self.host_ports(&name).await?,
                _ => BTreeMap::new(),
            };
            let node = match (&state, &listed) {
                (Some((ContainerState::Running, _)), Some(listed)) => {
                    let task = running_task(&self.manager, &name).await.map_err(other)?;
                    task.and_then(|t| listed.iter().find(|n| n.id == t.node_id).cloned())
                }
                _ => None,
            };
            out.push((
                l.get(LABEL_DEPLOYMENT).cloned().unwrap_or_default(),
                ObservedContainer {
                    id: name.clone(),
                    name,
                    resource: l.get(LABEL_RESOURCE).cloned().unwrap_or_default(),
                    replica: l
                        .get(LABEL_REPLICA)
                        .and_then(|r| r.parse().ok())
                        .unwrap_or(0),
                    state: state
                        .map_or(ContainerState::Unknown, |s| s.0)
                        .as_str()
                        .into(),
                    config_hash: l.get(LABEL_CONFIG).cloned().unwrap_or_default(),
                    ports,
                    zone: node.as_ref().and_then(|n| n.zone.clone()),
                    node: node.map(|n| n.hostname),
                },
            ));
        }
        Ok(out)
    }

    /// Networks (manager) and volumes (every node) by label, with their
    /// deployment label.
    async fn observe_storage(
        &self,
        labels: &[(&str, &str)],
    ) -> Result<(Vec<(String, String)>, Vec<(String, String)>), EngineError> {
        let networks = self
            .manager
            .list_networks(Some(bollard::query_parameters::ListNetworksOptions {
                filters: Some(Self::filters(labels)),
            }))
            .await?
            .into_iter()
            .filter_map(|n| {
                let dep = n.labels?.get(LABEL_DEPLOYMENT)?.clone();
                Some((dep, n.name?))
            })
            .collect();
        let mut volumes = Vec::new();
        for (node, d) in &self.ready_daemons().await {
            let found = d
                .list_volumes(Some(ListVolumesOptions {
                    filters: Some(Self::filters(labels)),
                }))
                .await;
            match found {
                Ok(r) => {
                    for v in r.volumes.unwrap_or_default() {
                        if let Some(dep) = v.labels.get(LABEL_DEPLOYMENT) {
                            volumes.push((dep.clone(), v.name));
                        }
                    }
                }
                Err(e) => warn!(%node, "swarm node volumes not listed: {e}"),
            }
        }
        Ok((networks, volumes))
    }

    /// Replicas 1 (start) or 0 (stop); the service, its pin and its volume stay.
    async fn scale(&self, name: &str, replicas: i64) -> Result<(), EngineError> {
        let changed = nodes::change_service(&self.manager, name, |spec| {
            let now = spec
                .mode
                .as_ref()
                .and_then(|m| m.replicated.as_ref())
                .and_then(|r| r.replicas);
            if now == Some(replicas) {
                return false;
            }
            spec.mode = Some(ServiceSpecMode {
                replicated: Some(ServiceSpecModeReplicated {
                    replicas: Some(replicas),
                }),
                ..Default::default()
            });
            true
        })
        .await;
        match changed {
            Err(SwarmError::Docker(e)) if not_found(&e) && replicas == 0 => Ok(()),
            other_result => other_result.map_err(other),
        }
    }

    /// A service's state: its running task, else its newest task's state
    /// (and exit code); `Exited` when scaled to 0; `None` when gone.
    async fn service_state(
        &self,
        name: &str,
    ) -> Result<Option<(ContainerState, Option<i64>)>, EngineError> {
        let service = match self
            .manager
            .inspect_service(name, None::<InspectServiceOptions>)
            .await
        {
            Ok(s) => s,
            Err(e) if not_found(&e) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let replicas = service
            .spec
            .and_then(|s| s.mode)
            .and_then(|m| m.replicated)
            .and_then(|r| r.replicas)
            .unwrap_or(1);
        let mut tasks = self.tasks(name).await?;
        tasks.sort_by_key(|t| std::cmp::Reverse(t.updated_at.clone()));
        if tasks.iter().any(|t| {
            t.status.as_ref().and_then(|s| s.state) == Some(TaskState::RUNNING)
                && t.desired_state == Some(TaskState::RUNNING)
        }) {
            return Ok(Some((ContainerState::Running, None)));
        }
        if replicas == 0 {
            return Ok(Some((ContainerState::Exited, Some(0))));
        }
        let newest = tasks.first().and_then(|t| t.status.clone());
        let state = newest.as_ref().and_then(|s| s.state);
        let code = newest
            .and_then(|s| s.container_status)
            .and_then(|c| c.exit_code);
        Ok(Some(match state {
            Some(TaskState::FAILED | TaskState::REJECTED | TaskState::COMPLETE) => {
                (ContainerState::Exited, code)
            }
            Some(TaskState::SHUTDOWN | TaskState::ORPHANED) => (ContainerState::Dead, code),
            _ => (ContainerState::Created, None),
        }))
    }

    async fn tasks(&self, service: &str) -> Result<Vec<bollard::models::Task>, EngineError> {
        Ok(self
            .manager
            .list_tasks(Some(ListTasksOptions {
                filters: Some(HashMap::from([(
                    "service".to_owned(),
                    vec![service.to_owned()],
                )])),
            }))
            .await?)
    }

    /// The running task's container and the daemon of its node.
    async fn task_container(&self, service: &str) -> Result<Option<(Docker, String)>, EngineError> {
        Ok(self
            .task_container_on(service)
            .await?
            .map(|(_, d, id)| (d, id)))
    }

    /// The running task's node (hostname), the node's daemon and the
    /// task's container.
    async fn task_container_on(
        &self,
        service: &str,
    ) -> Result<Option<(String, Docker, String)>, EngineError> {
        let Some(node_id) = running_task(&self.manager, service)
            .await
            .map_err(other)?
            .map(|t| t.node_id)
        else {
            return Ok(None);
        };
        let container = self.tasks(service).await?.into_iter().find_map(|t| {
            (t.node_id.as_deref() == Some(&node_id)
                && t.status.as_ref()?.state == Some(TaskState::RUNNING))
            .then(|| t.status?.container_status?.container_id)
            .flatten()
        });
        let nodes = list_nodes(&self.manager).await.map_err(other)?;
        let Some(hostname) = nodes
            .into_iter()
            .find(|n| n.id == node_id)
            .map(|n| n.hostname)
        else {
            return Ok(None);
        };
        let daemon = self
            .nodes
            .iter()
            .find(|(h, _)| *h == hostname)
            .map(|(_, d)| d.clone());
        Ok(daemon.zip(container).map(|(d, id)| (hostname, d, id)))
    }

    /// The loopback port of the relay for (service, port), created on first
    /// use and pointed at `target`.
    async fn relay(
        &self,
        service: &str,
        port: u16,
        target: SocketAddr,
    ) -> Result<u16, EngineError> {
        let key = (service.to_owned(), port);
        if let Some(r) = self
            .relays
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
        {
            *r.target.lock().unwrap_or_else(|e| e.into_inner()) = Some(target);
            return Ok(r.port);
        }
        let listener = TcpListener::bind((RELAY_HOST, 0))
            .await
            .map_err(|e| EngineError::Other(format!("relay for {service}: {e}")))?;
        let local = listener
            .local_addr()
            .map_err(|e| EngineError::Other(format!("relay for {service}: {e}")))?
            .port();
        let shared = Arc::new(Mutex::new(Some(target)));
        let to = shared.clone();
        let task = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let Some(dest) = *to.lock().unwrap_or_else(|e| e.into_inner()) else {
                    continue;
                };
                tokio::spawn(async move {
                    let upstream =
                        tokio::time::timeout(Duration::from_secs(5), TcpStream::connect(dest))
                            .await;
                    if let Ok(Ok(mut up)) = upstream {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut up).await;
                    } else {
                        debug!(%dest, "relay: node port refused");
                    }
                });
            }
        });
        let mut relays = self.relays.lock().unwrap_or_else(|e| e.into_inner());
        let r = relays.entry(key).or_insert(Relay {
            port: local,
            target: shared,
            task,
        });
        Ok(r.port)
    }

    /// With `enableMultiZone` anywhere in the stack, every instance gets a
    /// zone of the ready nodes, spread over the whole deployment (the
    /// planner spreads per service, so a master and the first replica
    /// would share a zone): running instances first, then warm spares.
    async fn zone_for(
        &self,
        stack: &DesiredStack,
        c: &DesiredContainer,
    ) -> Result<Option<String>, EngineError> {
        if stack.containers.iter().all(|x| x.zone.is_none()) {
            return Ok(None);
        }
        let mut zones: Vec<String> = list_nodes(&self.manager)
            .await
            .map_err(other)?
            .into_iter()
            .filter(|n| n.ready)
            .filter_map(|n| n.zone)
            .collect();
        zones.sort();
        zones.dedup();
        if zones.is_empty() {
            return Ok(c.zone.clone());
        }
        let order: Vec<&DesiredContainer> = stack
            .containers
            .iter()
            .filter(|x| !x.spare)
            .chain(stack.containers.iter().filter(|x| x.spare))
            .collect();
        let index = order.iter().position(|x| x.name == c.name).unwrap_or(0);
        let spread = spread_zones(order.len(), &zones);
        if let Some(note) = spread.note {
            debug!(deployment = %stack.deployment, "{note}");
            self.notes
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .entry(stack.deployment.clone())
                .or_default()
                .insert(note);
        }
        Ok(spread.zones.get(index).cloned())
    }

    fn drop_relays(&self, service: &str) {
        self.relays
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|(s, _), _| s != service);
    }
}

#[async_trait]
impl Engine for SwarmEngine {
    fn bind_address(&self) -> &str {
        RELAY_HOST
    }

    fn kind(&self) -> &'static str {
        "swarm"
    }

    /// The given compose keys a swarm service does not carry
    /// (`compose_keys::SWARM_APPLIED` is what it does), and sharing another
    /// service's network or volumes (a task's container is on whichever
    /// node the scheduler picks, so there is none to share).
    fn unsupported(&self, c: &DesiredContainer) -> Vec<String> {
        let mut keys: Vec<String> = super::compose_keys::refused(&c.opts)
            .into_iter()
            .map(str::to_owned)
            .collect();
        for (key, shares) in [
            ("network_mode", c.network_of.is_some()),
            ("volumes_from", !c.shared_volumes.is_empty()),
        ] {
            if shares && !keys.iter().any(|k| k == key) {
                keys.push(key.to_owned());
            }
        }
        keys
    }

    /// On every node (no registry): missing on one is `false`, named in
    /// the log; `create_container` then fails naming the node.
    async fn image_exists(&self, image: &str) -> Result<bool, EngineError> {
        match nodes::check_image(&self.ready_daemons().await, image).await {
            Ok(()) => Ok(true),
            Err(e @ SwarmError::ImageMissing { .. }) => {
                warn!("{e}");
                Ok(false)
            }
            Err(e) => Err(other(e)),
        }
    }

    async fn pull(&self, image: &str, _timeout: Duration) -> Result<(), EngineError> {
        match nodes::check_image(&self.ready_daemons().await, image).await {
            Ok(()) => Ok(()),
            Err(e) => Err(EngineError::Other(format!(
                "{e} (the swarm engine does not pull: there is no registry)"
            ))),
        }
    }

    async fn observe(&self, deployment: &str) -> Result<Observed, EngineError> {
        let labels = [
            (LABEL_MANAGED_BY, MANAGED_BY),
            (LABEL_DEPLOYMENT, deployment),
        ];
        let containers = self.observe_services(&labels).await?;
        let (networks, volumes) = self.observe_storage(&labels).await?;
        let mut volumes: Vec<String> = volumes.into_iter().map(|v| v.1).collect();
        volumes.sort();
        volumes.dedup();
        Ok(Observed {
            containers: containers.into_iter().map(|c| c.1).collect(),
            networks: networks.into_iter().map(|n| n.1).collect(),
            volumes,
        })
    }

    async fn observe_all(&self) -> Result<BTreeMap<String, Observed>, EngineError> {
        let labels = [
            (LABEL_MANAGED_BY, MANAGED_BY),
            (LABEL_INSTANCE, self.instance.as_str()),
        ];
        let mut all: BTreeMap<String, Observed> = BTreeMap::new();
        for (dep, c) in self.observe_services(&labels).await? {
            all.entry(dep).or_default().containers.push(c);
        }
        let (networks, volumes) = self.observe_storage(&labels).await?;
        for (dep, n) in networks {
            all.entry(dep).or_default().networks.push(n);
        }
        for (dep, v) in volumes {
            let o = all.entry(dep).or_default();
            if !o.volumes.contains(&v) {
                o.volumes.push(v);
            }
        }
        Ok(all)
    }

    /// The deployment's running (scaled to 1) services pinned to a node the
    /// manager reports down or no longer knows.
    async fn lost_containers(&self, deployment: &str) -> Result<Vec<LostContainer>, EngineError> {
        let labels = [
            (LABEL_MANAGED_BY, MANAGED_BY),
            (LABEL_DEPLOYMENT, deployment),
        ];
        let services = self
            .manager
            .list_services(Some(ListServicesOptions {
                filters: Some(Self::filters(&labels)),
                status: None,
            }))
            .await?;
        let placements: Vec<(String, Placement)> = services
            .into_iter()
            .filter_map(|s| s.spec)
            .filter(|spec| {
                spec.mode
                    .as_ref()
                    .and_then(|m| m.replicated.as_ref())
                    .and_then(|r| r.replicas)
                    .unwrap_or(1)
                    > 0
            })
            .map(|spec| {
                let constraints = spec
                    .task_template
                    .and_then(|t| t.placement)
                    .and_then(|p| p.constraints)
                    .unwrap_or_default();
                (
                    spec.name.unwrap_or_default(),
                    Placement::from_constraints(&constraints),
                )
            })
            .collect();
        let listed = list_nodes(&self.manager).await.map_err(other)?;
        Ok(
            lost_instances(&listed, placements.iter().map(|(n, p)| (n.as_str(), p)))
                .into_iter()
                .map(|l| LostContainer {
                    name: l.service,
                    node: l.node,
                    zone: l.zone,
                })
                .collect(),
        )
    }

    /// Every service at once, their containers force-removed on every ready
    /// node (one bounded wait), then the volumes there, then the overlay.
    /// Removing one service after the other, each waiting for its task's
    /// graceful stop, took 7 s warm and over 60 s once on a cold CI run.
    async fn teardown(&self, deployment: &str) -> Result<Observed, EngineError> {
        let observed = self.observe(deployment).await?;
        let removals = observed
            .containers
            .iter()
            .map(|c| self.delete_service(&c.id));
        for r in futures_util::future::join_all(removals).await {
            r?;
        }
        // their volumes go too: no graceful stop to wait for
        self.wait_containers_gone(&format!("{LABEL_DEPLOYMENT}={deployment}"), Duration::ZERO)
            .await;
        self.remove_secrets(&[
            (LABEL_MANAGED_BY, MANAGED_BY),
            (LABEL_DEPLOYMENT, deployment),
        ])
        .await;
        let volumes = observed.volumes.iter().map(|v| self.remove_volume(v));
        for r in futures_util::future::join_all(volumes).await {
            r?;
        }
        for n in &observed.networks {
            self.remove_network(n).await?;
        }
        Ok(observed)
    }

    fn take_notes(&self, deployment: &str) -> Vec<String> {
        self.notes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(deployment)
            .map(|n| n.into_iter().collect())
            .unwrap_or_default()
    }

    async fn ensure_network(&self, stack: &DesiredStack) -> Result<bool, EngineError> {
        match self
            .manager
            .inspect_network(
                &stack.network,
                None::<bollard::query_parameters::InspectNetworkOptions>,
            )
            .await
        {
            Ok(_) => return Ok(false),
            Err(e) if not_found(&e) => {}
            Err(e) => return Err(e.into()),
        }
        let labels = self.labels(base_labels(&stack.deployment));
        self.manager
            .create_network(overlay_network(&stack.network, &labels))
            .await?;
        Ok(true)
    }

    /// Nothing up front: the task creates its labelled local volume on the
    /// node it runs on.
    async fn ensure_volume(
        &self,
        _deployment: &str,
        _c: &DesiredContainer,
        _name: &str,
    ) -> Result<bool, EngineError> {
        Ok(false)
    }

    async fn create_container(
        &self,
        stack: &DesiredStack,
        c: &DesiredContainer,
        _keep_ports: &BTreeMap<u16, u16>,
    ) -> Result<(), EngineError> {
        nodes::check_image(&self.ready_daemons().await, &c.image)
            .await
            .map_err(|e| EngineError::Other(e.to_string()))?;
        let mut c = c.clone();
        c.zone = self.zone_for(stack, &c).await?;
        let mut input = instance_input(&c, self.labels(c.labels(&stack.deployment)));
        // passwords as secrets, never in the service spec
        let secrets = file_secrets(&c.name, &mut input.env);
        let refs = self
            .ensure_secrets(&stack.deployment, &c.name, &secrets)
            .await?;
        let mut spec = instance_service(&input, &stack.network);
        if let Some(container) = spec
            .task_template
            .as_mut()
            .and_then(|t| t.container_spec.as_mut())
        {
            container.secrets = Some(refs);
        }
        self.manager.create_service(spec, None).await?;
        Ok(())
    }

    async fn start(&self, name: &str) -> Result<(), EngineError> {
        self.scale(name, 1).await
    }

    async fn stop(&self, name: &str, _grace_secs: i32) -> Result<(), EngineError> {
        self.scale(name, 0).await
    }

    async fn pause(&self, name: &str) -> Result<(), EngineError> {
        Err(EngineError::Other(format!(
            "cannot pause `{name}`: the swarm engine does not pause (use --idle-stop-after only)"
        )))
    }

    async fn unpause(&self, name: &str) -> Result<(), EngineError> {
        Err(EngineError::Other(format!(
            "cannot unpause `{name}`: the swarm engine does not pause"
        )))
    }

    /// Delete the service, then wait (bounded) for its task container to
    /// go from the ready nodes (its named volume can only go after it).
    async fn remove_container(&self, name_or_id: &str) -> Result<(), EngineError> {
        self.delete_service(name_or_id).await?;
        // a graceful stop first: its volume stays and must be consistent
        self.wait_containers_gone(
            &format!("{SERVICE_NAME_LABEL}={name_or_id}"),
            CONTAINERS_GONE,
        )
        .await;
        self.remove_secrets(&[
            (LABEL_MANAGED_BY, MANAGED_BY),
            (LABEL_SECRET_OF, name_or_id),
        ])
        .await;
        Ok(())
    }

    /// On every ready node: a down node keeps its copy (out of reach).
    async fn remove_volume(&self, name: &str) -> Result<(), EngineError> {
        for (node, d) in &self.ready_daemons().await {
            let mut tries = 0;
            loop {
                match d.remove_volume(name, None::<RemoveVolumeOptions>).await {
                    Ok(()) => break,
                    Err(e) if not_found(&e) => break,
                    // still in use by a container being removed
                    Err(_) if tries < 20 => {
                        tries += 1;
                        tokio::time::sleep(Duration::from_millis(500)).await;
                    }
                    Err(e) => {
                        return Err(EngineError::Other(format!(
                            "volume `{name}` on swarm node `{node}`: {e}"
                        )))
                    }
                }
            }
        }
        Ok(())
    }

    /// The manager only marks an overlay for removal while tasks are still
    /// attached to it: wait (bounded) until it is gone, unless a node is
    /// down (its tasks never detach until it is back: logged, not waited).
    async fn remove_network(&self, name: &str) -> Result<(), EngineError> {
        let mut tries = 0;
        loop {
            match self.manager.remove_network(name).await {
                Ok(()) => break,
                Err(e) if not_found(&e) => return Ok(()),
                // tasks detach from the overlay asynchronously
                Err(_) if tries < 20 => {
                    tries += 1;
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                Err(e) => return Err(e.into()),
            }
        }
        if self.ready_daemons().await.len() < self.nodes.len() {
            warn!(network = %name, "a node is down: the manager removes the overlay once it is back");
            return Ok(());
        }
        let deadline = Instant::now() + CONTAINERS_GONE;
        while Instant::now() < deadline {
            let found = self
                .manager
                .inspect_network(
                    name,
                    None::<bollard::query_parameters::InspectNetworkOptions>,
                )
                .await;
            match found {
                Err(e) if not_found(&e) => return Ok(()),
                _ => tokio::time::sleep(Duration::from_millis(250)).await,
            }
        }
        warn!(network = %name, "overlay still listed after its removal");
        Ok(())
    }

    async fn copy_volume(
        &self,
        _deployment: &str,
        _image: &str,
        from: &str,
        to: &str,
        _drop: &[&str],
        _timeout: Duration,
    ) -> Result<(), EngineError> {
        Err(EngineError::Other(format!(
            "cannot copy volume `{from}` to `{to}` on a swarm (volumes live on nodes): \
             a new replica starts empty and catches up from its master"
        )))
    }

    /// From the daemon of the task's node; an error names the node (the
    /// controller then turns autoscaling off with an event).
    async fn usage_sample(&self, name: &str) -> Result<Option<UsageSample>, EngineError> {
        let Some((node, daemon, container)) = self.task_container_on(name).await? else {
            return Ok(None);
        };
        usage_of(&daemon, &container)
            .await
            .map_err(|e| EngineError::Other(format!("swarm node `{node}` gave no CPU sample: {e}")))
    }

    fn logs(&self, name: &str, since: i64) -> BoxStream<'static, Result<String, EngineError>> {
        let this_manager = self.manager.clone();
        let nodes = self.nodes.clone();
        let name = name.to_owned();
        let instance = self.instance.clone();
        futures_util::stream::once(async move {
            let engine = SwarmEngine {
                manager: this_manager,
                nodes,
                instance,
                relays: Mutex::new(HashMap::new()),
                pinned: Mutex::new(HashSet::new()),
                notes: Mutex::new(HashMap::new()),
            };
            match engine.task_container(&name).await {
                Ok(Some((d, id))) => follow_logs(&d, &id, since),
                Ok(None) => futures_util::stream::empty().boxed(),
                Err(e) => futures_util::stream::once(async move { Err(e) }).boxed(),
            }
        })
        .flatten()
        .boxed()
    }

    async fn tail(&self, name: &str, lines: usize) -> Vec<String> {
        let Ok(Some((d, id))) = self.task_container(name).await else {
            return Vec::new();
        };
        tail_logs(&d, &id, lines).await
    }

    /// Container port → loopback relay port, forwarding to the task's
    /// host-mode port on its node.
    async fn host_ports(&self, name: &str) -> Result<BTreeMap<u16, u16>, EngineError> {
        let Some(task) = running_task(&self.manager, name).await.map_err(other)? else {
            return Ok(BTreeMap::new());
        };
        let nodes = list_nodes(&self.manager).await.map_err(other)?;
        let Some(node) = nodes.into_iter().find(|n| n.id == task.node_id) else {
            return Ok(BTreeMap::new());
        };
        self.pin(name, &task.node_id).await;
        let mut out = BTreeMap::new();
        for (port, published) in task.host_ports {
            let target: SocketAddr = format!("{}:{published}", node.addr)
                .parse()
                .map_err(|e| EngineError::Other(format!("node address `{}`: {e}", node.addr)))?;
            out.insert(port, self.relay(name, port, target).await?);
        }
        Ok(out)
    }

    async fn container_state(
        &self,
        name: &str,
    ) -> Result<Option<(ContainerState, Option<i64>)>, EngineError> {
        self.service_state(name).await
    }
}
