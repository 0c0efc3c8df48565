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
//!
//! This file holds the [`Engine`] implementation; its helpers live beside it:
//! `services` (the manager's side: services, tasks, pins, zones),
//! `node_daemons` (containers and volumes on the nodes), `service_secrets`
//! and `relay`.

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

mod node_daemons;
mod relay;
mod service_secrets;
mod services;

use relay::Relay;

/// The only address relays listen on.
const RELAY_HOST: &str = "127.0.0.1";

/// The label naming the instance a swarm secret belongs to.
const LABEL_SECRET_OF: &str = "org.specstudio.secret-of";

/// The label the swarm puts on every task container.
const SERVICE_NAME_LABEL: &str = "com.docker.swarm.service.name";

/// How long a removal waits for task containers to stop by themselves
/// (their stop grace), and then for a forced removal to finish.
const CONTAINERS_GONE: Duration = Duration::from_secs(30);

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
