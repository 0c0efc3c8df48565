//! The [`Engine`] trait: everything the controller asks of a container
//! engine. [`super::DockerEngine`] runs it on a Docker daemon; the in-memory
//! `FakeEngine` (tests) runs it in a map and fails on cue; the next engine
//! (Docker Swarm) implements it too.
//!
//! Every object an engine creates carries the deployment's labels, so
//! [`Engine::observe`] finds them again after a restart. Removals are
//! idempotent: removing something already gone is `Ok`.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use futures_util::stream::BoxStream;

use super::{ContainerState, EngineError, Observed, UsageSample};
use crate::plan::{DesiredContainer, DesiredStack};

/// A container whose node is down (a multi-node engine): it cannot run
/// again until that node is back, and its volumes are out of reach.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LostContainer {
    pub name: String,
    /// The node's name, for the event.
    pub node: String,
    pub zone: Option<String>,
}

#[async_trait]
pub trait Engine: Send + Sync {
    /// The address published ports are bound to.
    fn bind_address(&self) -> &str;

    /// The engine's name for messages (`docker`, `swarm`).
    fn kind(&self) -> &'static str {
        "docker"
    }

    /// The compose keys (as written: `cap_add`, `network_mode`) of a planned
    /// container this engine would not apply. The plan refuses each by
    /// name, before anything is created. One Docker host applies them all.
    fn unsupported(&self, _c: &DesiredContainer) -> Vec<String> {
        Vec::new()
    }

    async fn image_exists(&self, image: &str) -> Result<bool, EngineError>;
    /// Try to pull `image`, bounded by `timeout`.
    async fn pull(&self, image: &str, timeout: Duration) -> Result<(), EngineError>;

    /// Every labelled object of one deployment.
    async fn observe(&self, deployment: &str) -> Result<Observed, EngineError>;
    /// Every object this server instance manages, by deployment label
    /// (containers carry only their id).
    async fn observe_all(&self) -> Result<BTreeMap<String, Observed>, EngineError>;

    /// Create the deployment's network unless it exists. `true` when created.
    async fn ensure_network(&self, stack: &DesiredStack) -> Result<bool, EngineError>;
    /// Create a labelled volume unless it exists. `true` when created.
    async fn ensure_volume(
        &self,
        deployment: &str,
        c: &DesiredContainer,
        name: &str,
    ) -> Result<bool, EngineError>;

    /// Create and start a container (its volumes must exist). `keep_ports`
    /// (container port → host port) asks for the host ports a replaced
    /// container had; when one is taken, new ones are used.
    async fn create_container(
        &self,
        stack: &DesiredStack,
        c: &DesiredContainer,
        keep_ports: &BTreeMap<u16, u16>,
    ) -> Result<(), EngineError>;
    /// Start a created or stopped container (`Ok` when already running).
    async fn start(&self, name: &str) -> Result<(), EngineError>;
    /// Stop a container (kept, with its volumes); `Ok` when already stopped
    /// or gone.
    async fn stop(&self, name: &str, grace_secs: i32) -> Result<(), EngineError>;
    /// Freeze a running container's processes (memory kept).
    async fn pause(&self, name: &str) -> Result<(), EngineError>;
    async fn unpause(&self, name: &str) -> Result<(), EngineError>;
    /// Remove a container and its anonymous volumes (named ones stay).
    async fn remove_container(&self, name_or_id: &str) -> Result<(), EngineError>;
    async fn remove_volume(&self, name: &str) -> Result<(), EngineError>;
    async fn remove_network(&self, name: &str) -> Result<(), EngineError>;
    /// Copy the contents of volume `from` into volume `to` (which must
    /// exist), ownership and modes kept, without the paths in `drop`.
    async fn copy_volume(
        &self,
        deployment: &str,
        image: &str,
        from: &str,
        to: &str,
        drop: &[&str],
        timeout: Duration,
    ) -> Result<(), EngineError>;

    /// One CPU/memory sample of a running container (`None`: not running).
    async fn usage_sample(&self, name: &str) -> Result<Option<UsageSample>, EngineError>;
    /// Follow a container's output (stdout and stderr) from `since` (Unix
    /// seconds; 0: from its start), in chunks of text.
    fn logs(&self, name: &str, since: i64) -> BoxStream<'static, Result<String, EngineError>>;
    /// The last lines a container printed (for failure messages).
    async fn tail(&self, name: &str, lines: usize) -> Vec<String>;
    /// Container ports → host ports of one container.
    async fn host_ports(&self, name: &str) -> Result<BTreeMap<u16, u16>, EngineError>;
    /// The container's IPv4 address on its deployment's network, for
    /// kernel forwarding (`proxy/kernel.rs`); `None`: not known (an engine
    /// whose containers the host cannot route to directly).
    async fn container_address(
        &self,
        _name: &str,
    ) -> Result<Option<std::net::Ipv4Addr>, EngineError> {
        Ok(None)
    }
    /// A container's state and exit code (`None`: it does not exist).
    async fn container_state(
        &self,
        name: &str,
    ) -> Result<Option<(ContainerState, Option<i64>)>, EngineError>;

    /// What the engine decided about placement since the last call, for
    /// the deployment's events (a multi-node engine: "4 instances over 3
    /// zones: spread as evenly as possible …"). One host has none.
    fn take_notes(&self, _deployment: &str) -> Vec<String> {
        Vec::new()
    }

    /// The deployment's containers whose node is down. One host has no
    /// node to lose: always empty.
    async fn lost_containers(&self, _deployment: &str) -> Result<Vec<LostContainer>, EngineError> {
        Ok(Vec::new())
    }

    /// Remove every labelled object of a deployment: containers, then
    /// volumes, then the network.
    async fn teardown(&self, deployment: &str) -> Result<Observed, EngineError> {
        let observed = self.observe(deployment).await?;
        let removals = observed
            .containers
            .iter()
            .map(|c| self.remove_container(&c.id));
        for r in futures_util::future::join_all(removals).await {
            r?;
        }
        for v in &observed.volumes {
            self.remove_volume(v).await?;
        }
        for n in &observed.networks {
            self.remove_network(n).await?;
        }
        Ok(observed)
    }
}
