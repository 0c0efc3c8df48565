//! [`DockerEngine`]: the [`Engine`] on a Docker daemon (bollard). Every
//! object carries `org.specstudio.managed-by=specstudio`,
//! `org.specstudio.deployment=<id>` and this server's instance id; containers
//! also the resource, the replica index and a config hash.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use async_trait::async_trait;
use bollard::errors::Error as DockerError;
use bollard::models::{
    ContainerCreateBody, HostConfig, Mount, MountTypeEnum, NetworkCreateRequest,
    VolumeCreateOptions,
};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, CreateImageOptionsBuilder, ListContainersOptionsBuilder,
    ListNetworksOptionsBuilder, ListVolumesOptionsBuilder, LogsOptionsBuilder,
    RemoveContainerOptionsBuilder, RemoveVolumeOptionsBuilder, StopContainerOptionsBuilder,
};
use bollard::Docker;
use futures_util::stream::BoxStream;
use futures_util::StreamExt;

use super::create::container_body;
use super::{
    remove_socket_dir, ContainerState, Engine, EngineError, Observed, ObservedContainer,
    UsageSample,
};
use crate::plan::{
    base_labels, DesiredContainer, DesiredStack, LABEL_CONFIG, LABEL_DEPLOYMENT, LABEL_INSTANCE,
    LABEL_MANAGED_BY, LABEL_REPLICA, LABEL_RESOURCE, MANAGED_BY,
};

/// A Docker daemon reached over its API socket.
#[derive(Clone)]
pub struct DockerEngine {
    docker: Docker,
    pub bind_address: String,
    /// This server's instance id (`org.specstudio.instance` on every object).
    pub instance: String,
}

fn label_filter(labels: &[(&str, &str)]) -> HashMap<String, Vec<String>> {
    let mut f = HashMap::new();
    f.insert(
        "label".to_owned(),
        labels.iter().map(|(k, v)| format!("{k}={v}")).collect(),
    );
    f
}

impl DockerEngine {
    /// Connect to `host` (`unix:///…`, `tcp://…`; default: `DOCKER_HOST` or
    /// the local socket) and negotiate the API version with the engine.
    pub async fn connect(
        host: Option<&str>,
        bind_address: &str,
        instance: &str,
    ) -> Result<DockerEngine, EngineError> {
        let docker = match host {
            Some(h) if h.starts_with("unix://") || h.starts_with('/') => {
                Docker::connect_with_unix(h, 120, bollard::API_DEFAULT_VERSION)?
            }
            Some(h) if h.starts_with("tcp://") || h.starts_with("http://") => {
                Docker::connect_with_http(h, 120, bollard::API_DEFAULT_VERSION)?
            }
            Some(h) => {
                return Err(EngineError::Other(format!(
                    "unsupported docker host `{h}` (use unix:// or tcp://)"
                )))
            }
            None => Docker::connect_with_defaults()?,
        };
        let docker = tokio::time::timeout(Duration::from_secs(5), docker.negotiate_version())
            .await
            .map_err(|_| EngineError::Other("docker did not answer within 5 s".into()))??;
        tokio::time::timeout(Duration::from_secs(5), docker.ping())
            .await
            .map_err(|_| EngineError::Other("docker did not answer within 5 s".into()))??;
        Ok(DockerEngine {
            docker,
            bind_address: bind_address.to_owned(),
            instance: instance.to_owned(),
        })
    }

    fn labels(&self, base: BTreeMap<String, String>) -> HashMap<String, String> {
        let mut l: HashMap<String, String> = base.into_iter().collect();
        l.insert(LABEL_INSTANCE.into(), self.instance.clone());
        l
    }

    pub fn docker(&self) -> &Docker {
        &self.docker
    }

    async fn observe_filter(&self, labels: &[(&str, &str)]) -> Result<Observed, EngineError> {
        let filters = label_filter(labels);
        // three independent listings, asked at once (a wake's first look)
        let (list, nets, vols) = futures_util::try_join!(
            self.docker.list_containers(Some(
                ListContainersOptionsBuilder::default()
                    .all(true)
                    .filters(&filters)
                    .build(),
            )),
            self.docker.list_networks(Some(
                ListNetworksOptionsBuilder::default()
                    .filters(&filters)
                    .build(),
            )),
            self.docker.list_volumes(Some(
                ListVolumesOptionsBuilder::default()
                    .filters(&filters)
                    .build(),
            )),
        )?;
        Ok(Observed {
            containers: list.into_iter().map(observed_container).collect(),
            networks: nets.into_iter().filter_map(|n| n.name).collect(),
            volumes: vols
                .volumes
                .unwrap_or_default()
                .into_iter()
                .map(|v| v.name)
                .collect(),
        })
    }

    async fn observe_networks(&self, deployment: &str) -> Result<BTreeSet<String>, EngineError> {
        let nets = self
            .docker
            .list_networks(Some(
                ListNetworksOptionsBuilder::default()
                    .filters(&label_filter(&[
                        (LABEL_MANAGED_BY, MANAGED_BY),
                        (LABEL_DEPLOYMENT, deployment),
                    ]))
                    .build(),
            ))
            .await?;
        Ok(nets.into_iter().filter_map(|n| n.name).collect())
    }

    async fn create_container_once(
        &self,
        stack: &DesiredStack,
        c: &DesiredContainer,
        keep_ports: &BTreeMap<u16, u16>,
    ) -> Result<(), EngineError> {
        let labels = self.labels(c.labels(&stack.deployment));
        let body = container_body(&self.bind_address, labels, stack, c, keep_ports);
        let opts = CreateContainerOptionsBuilder::default()
            .name(&c.name)
            .build();
        match self.docker.create_container(Some(opts), body).await {
            Ok(_) => {}
            Err(e) => {
                let e = EngineError::from(e);
                // created by an earlier, interrupted attempt: start it below
                if !e.is_conflict() {
                    return Err(e);
                }
            }
        }
        self.start(&c.name).await
    }

    /// One container's inspect document.
    async fn inspect(
        &self,
        name: &str,
    ) -> Result<bollard::models::ContainerInspectResponse, EngineError> {
        Ok(self
            .docker
            .inspect_container(
                name,
                None::<bollard::query_parameters::InspectContainerOptions>,
            )
            .await?)
    }
}

#[async_trait]
impl Engine for DockerEngine {
    fn bind_address(&self) -> &str {
        &self.bind_address
    }

    async fn image_exists(&self, image: &str) -> Result<bool, EngineError> {
        match self.docker.inspect_image(image).await {
            Ok(_) => Ok(true),
            Err(e) => {
                let e = EngineError::from(e);
                if e.is_not_found() {
                    Ok(false)
                } else {
                    Err(e)
                }
            }
        }
    }

    /// Try to pull `image`, bounded by `timeout`.
    async fn pull(&self, image: &str, timeout: Duration) -> Result<(), EngineError> {
        let (name, tag) = match image.rsplit_once(':') {
            Some((n, t)) if !t.contains('/') => (n.to_owned(), t.to_owned()),
            _ => (image.to_owned(), "latest".to_owned()),
        };
        let opts = CreateImageOptionsBuilder::default()
            .from_image(&name)
            .tag(&tag)
            .build();
        let pull = async {
            let mut stream = self.docker.create_image(Some(opts), None, None);
            while let Some(item) = stream.next().await {
                item.map_err(|e| EngineError::Other(e.to_string()))?;
            }
            Ok::<(), EngineError>(())
        };
        match tokio::time::timeout(timeout, pull).await {
            Ok(r) => r,
            Err(_) => Err(EngineError::Other(format!(
                "no registry answered within {} s",
                timeout.as_secs()
            ))),
        }
    }

    async fn observe(&self, deployment: &str) -> Result<Observed, EngineError> {
        self.observe_filter(&[
            (LABEL_MANAGED_BY, MANAGED_BY),
            (LABEL_DEPLOYMENT, deployment),
        ])
        .await
    }

    /// Every object this server instance manages, grouped by deployment label.
    async fn observe_all(&self) -> Result<BTreeMap<String, Observed>, EngineError> {
        let mine = label_filter(&[
            (LABEL_MANAGED_BY, MANAGED_BY),
            (LABEL_INSTANCE, &self.instance),
        ]);
        let mut out: BTreeMap<String, Observed> = BTreeMap::new();
        let list = self
            .docker
            .list_containers(Some(
                ListContainersOptionsBuilder::default()
                    .all(true)
                    .filters(&mine)
                    .build(),
            ))
            .await?;
        for c in list {
            let deployment = c
                .labels
                .as_ref()
                .and_then(|l| l.get(LABEL_DEPLOYMENT))
                .cloned();
            if let (Some(dep), Some(_)) = (deployment, c.id.as_ref()) {
                out.entry(dep)
                    .or_default()
                    .containers
                    .push(observed_container(c));
            }
        }
        let nets = self
            .docker
            .list_networks(Some(
                ListNetworksOptionsBuilder::default().filters(&mine).build(),
            ))
            .await?;
        for n in nets {
            let labels = n.labels.unwrap_or_default();
            if let (Some(dep), Some(name)) = (labels.get(LABEL_DEPLOYMENT), n.name) {
                out.entry(dep.clone()).or_default().networks.push(name);
            }
        }
        let vols = self
            .docker
            .list_volumes(Some(
                ListVolumesOptionsBuilder::default().filters(&mine).build(),
            ))
            .await?;
        for v in vols.volumes.unwrap_or_default() {
            if let Some(dep) = v.labels.get(LABEL_DEPLOYMENT) {
                out.entry(dep.clone()).or_default().volumes.push(v.name);
            }
        }
        Ok(out)
    }

    /// Create the deployment's network unless it exists. `true` when created.
    async fn ensure_network(&self, stack: &DesiredStack) -> Result<bool, EngineError> {
        let existing = self.observe_networks(&stack.deployment).await?;
        if existing.contains(&stack.network) {
            return Ok(false);
        }
        let req = NetworkCreateRequest {
            name: stack.network.clone(),
            driver: Some("bridge".into()),
            labels: Some(self.labels(base_labels(&stack.deployment))),
            ..Default::default()
        };
        match self.docker.create_network(req).await {
            Ok(_) => Ok(true),
            Err(e) => {
                let e = EngineError::from(e);
                if e.is_conflict() {
                    Ok(false)
                } else {
                    Err(e)
                }
            }
        }
    }

    /// Create a labelled volume unless it exists. `true` when created.
    async fn ensure_volume(
        &self,
        deployment: &str,
        c: &DesiredContainer,
        name: &str,
    ) -> Result<bool, EngineError> {
        match self.docker.inspect_volume(name).await {
            Ok(_) => return Ok(false),
            Err(e) => {
                let e = EngineError::from(e);
                if !e.is_not_found() {
                    return Err(e);
                }
            }
        }
        let mut labels = self.labels(base_labels(deployment));
        labels.insert(LABEL_RESOURCE.into(), c.resource.clone());
        labels.insert(LABEL_REPLICA.into(), c.replica.to_string());
        self.docker
            .create_volume(VolumeCreateOptions {
                name: Some(name.to_owned()),
                labels: Some(labels),
                ..Default::default()
            })
            .await?;
        Ok(true)
    }

    /// Create and start a container (its volumes must exist).
    /// `keep_ports` (container port → host port) asks for the host ports a
    /// replaced container had, so endpoints survive a settings change; when
    /// one is taken meanwhile, ephemeral ports are used instead.
    async fn create_container(
        &self,
        stack: &DesiredStack,
        c: &DesiredContainer,
        keep_ports: &BTreeMap<u16, u16>,
    ) -> Result<(), EngineError> {
        match self.create_container_once(stack, c, keep_ports).await {
            Err(e) if !keep_ports.is_empty() => {
                tracing::info!(container = %c.name, "previous host ports unavailable ({e}); using new ones");
                self.remove_container(&c.name).await?;
                self.create_container_once(stack, c, &BTreeMap::new()).await
            }
            other => other,
        }
    }

    async fn start(&self, name: &str) -> Result<(), EngineError> {
        match self
            .docker
            .start_container(
                name,
                None::<bollard::query_parameters::StartContainerOptions>,
            )
            .await
        {
            Ok(()) => Ok(()),
            // 304: already started
            Err(DockerError::DockerResponseServerError {
                status_code: 304, ..
            }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Stop a container (kept, with its volumes); `Ok` when already stopped
    /// or gone.
    async fn stop(&self, name: &str, grace_secs: i32) -> Result<(), EngineError> {
        let result = self
            .docker
            .stop_container(
                name,
                Some(StopContainerOptionsBuilder::default().t(grace_secs).build()),
            )
            .await;
        match result {
            // 304: already stopped
            Err(DockerError::DockerResponseServerError {
                status_code: 304, ..
            }) => Ok(()),
            other => ignore_not_found(other),
        }
    }

    async fn pause(&self, name: &str) -> Result<(), EngineError> {
        self.docker.pause_container(name).await?;
        Ok(())
    }

    async fn unpause(&self, name: &str) -> Result<(), EngineError> {
        self.docker.unpause_container(name).await?;
        Ok(())
    }

    /// One CPU/memory sample of a running container (`None`: not running).
    async fn usage_sample(&self, name: &str) -> Result<Option<UsageSample>, EngineError> {
        usage_of(&self.docker, name).await
    }

    async fn remove_container(&self, name_or_id: &str) -> Result<(), EngineError> {
        // its name keys the shared socket directory (callers may pass an id)
        let name = self
            .docker
            .inspect_container(
                name_or_id,
                None::<bollard::query_parameters::InspectContainerOptions>,
            )
            .await
            .ok()
            .and_then(|i| i.name)
            .map(|n| n.trim_start_matches('/').to_owned());
        // a short stop timeout: MariaDB shuts down cleanly within a second
        let _ = self
            .docker
            .stop_container(
                name_or_id,
                Some(StopContainerOptionsBuilder::default().t(10).build()),
            )
            .await;
        let result = self
            .docker
            .remove_container(
                name_or_id,
                Some(
                    RemoveContainerOptionsBuilder::default()
                        .force(true)
                        .v(true)
                        .build(),
                ),
            )
            .await;
        if let (Ok(()), Some(name)) = (&result, &name) {
            remove_socket_dir(name);
        }
        ignore_not_found(result)
    }

    async fn remove_volume(&self, name: &str) -> Result<(), EngineError> {
        let result = self
            .docker
            .remove_volume(
                name,
                Some(RemoveVolumeOptionsBuilder::default().force(true).build()),
            )
            .await;
        ignore_not_found(result)
    }

    async fn remove_network(&self, name: &str) -> Result<(), EngineError> {
        ignore_not_found(self.docker.remove_network(name).await)
    }

    /// Copy the contents of volume `from` into volume `to` (which must exist)
    /// with a short-lived labelled helper container of `image` (`cp -a`, so
    /// ownership and modes are kept), then remove the helper. `drop` lists
    /// paths (relative to the volume) removed from the copy.
    async fn copy_volume(
        &self,
        deployment: &str,
        image: &str,
        from: &str,
        to: &str,
        drop: &[&str],
        timeout: Duration,
    ) -> Result<(), EngineError> {
        let mut suffix = [0u8; 4];
        getrandom::fill(&mut suffix).map_err(|e| EngineError::Other(e.to_string()))?;
        let name = format!("ss-{deployment}-copy-{}", crate::plan::hex(&suffix));
        let mut script = String::from("set -e; cp -a /from/. /to/");
        for d in drop {
            // fixed names from our code, never user input
            script.push_str(&format!("; rm -rf /to/{d}"));
        }
        let mount = |source: &str, target: &str, read_only: bool| Mount {
            target: Some(target.into()),
            source: Some(source.into()),
            typ: Some(MountTypeEnum::VOLUME),
            read_only: Some(read_only),
            ..Default::default()
        };
        let body = ContainerCreateBody {
            image: Some(image.to_owned()),
            entrypoint: Some(vec!["/bin/sh".into(), "-c".into(), script]),
            cmd: Some(Vec::new()),
            user: Some("0:0".into()),
            labels: Some(self.labels(base_labels(deployment))),
            network_disabled: Some(true),
            host_config: Some(HostConfig {
                mounts: Some(vec![mount(from, "/from", true), mount(to, "/to", false)]),
                ..Default::default()
            }),
            ..Default::default()
        };
        self.docker
            .create_container(
                Some(CreateContainerOptionsBuilder::default().name(&name).build()),
                body,
            )
            .await?;
        let run = async {
            self.start(&name).await?;
            let mut wait = self.docker.wait_container(
                &name,
                None::<bollard::query_parameters::WaitContainerOptions>,
            );
            match wait.next().await {
                Some(Ok(_)) | None => Ok(()),
                Some(Err(DockerError::DockerContainerWaitError { code, .. })) => {
                    let tail = self.tail(&name, 5).await.join(" | ");
                    Err(EngineError::Other(format!(
                        "copying volume {from} to {to} failed (exit code {code}): {tail}"
                    )))
                }
                Some(Err(e)) => Err(e.into()),
            }
        };
        let result = match tokio::time::timeout(timeout, run).await {
            Ok(r) => r,
            Err(_) => Err(EngineError::Other(format!(
                "copying volume {from} to {to} did not finish within {} s",
                timeout.as_secs()
            ))),
        };
        self.remove_container(&name).await?;
        result
    }

    /// Follow a container's output (stdout and stderr), line by line.
    fn logs(&self, name: &str, since: i64) -> BoxStream<'static, Result<String, EngineError>> {
        follow_logs(&self.docker, name, since)
    }

    /// The last lines a container printed (for failure messages).
    async fn tail(&self, name: &str, lines: usize) -> Vec<String> {
        tail_logs(&self.docker, name, lines).await
    }

    /// Container ports → host ports of one container, by inspecting it.
    async fn host_ports(&self, name: &str) -> Result<BTreeMap<u16, u16>, EngineError> {
        let info = self.inspect(name).await?;
        let mut out = BTreeMap::new();
        if let Some(ports) = info.network_settings.and_then(|n| n.ports) {
            for (k, v) in ports {
                let Some(port) = k.split('/').next().and_then(|p| p.parse::<u16>().ok()) else {
                    continue;
                };
                if let Some(host) = v
                    .unwrap_or_default()
                    .into_iter()
                    .find_map(|b| b.host_port.and_then(|p| p.parse::<u16>().ok()))
                {
                    out.insert(port, host);
                }
            }
        }
        Ok(out)
    }

    /// The container's address on its (one) bridge network.
    async fn container_address(
        &self,
        name: &str,
    ) -> Result<Option<std::net::Ipv4Addr>, EngineError> {
        let info = self.inspect(name).await?;
        let nets = info
            .network_settings
            .and_then(|n| n.networks)
            .unwrap_or_default();
        Ok(nets
            .values()
            .filter_map(|n| n.ip_address.as_deref()?.parse().ok())
            .next())
    }

    /// Whether a container is running (`None`: it does not exist).
    async fn container_state(
        &self,
        name: &str,
    ) -> Result<Option<(ContainerState, Option<i64>)>, EngineError> {
        match self
            .docker
            .inspect_container(
                name,
                None::<bollard::query_parameters::InspectContainerOptions>,
            )
            .await
        {
            Ok(info) => {
                let state = info.state.unwrap_or_default();
                Ok(Some((
                    ContainerState::parse(&state.status.map(|s| s.to_string()).unwrap_or_default()),
                    state.exit_code,
                )))
            }
            Err(e) => {
                let e = EngineError::from(e);
                if e.is_not_found() {
                    Ok(None)
                } else {
                    Err(e)
                }
            }
        }
    }
}

/// Removal is idempotent: an object that is already gone is success.
fn ignore_not_found(result: Result<(), DockerError>) -> Result<(), EngineError> {
    match result.map_err(EngineError::from) {
        Err(e) if e.is_not_found() => Ok(()),
        other => other,
    }
}

/// One listed container as observed: name, resource, replica, state, config
/// hash and published ports (the same for one deployment and for all).
fn observed_container(c: bollard::models::ContainerSummary) -> ObservedContainer {
    let labels = c.labels.unwrap_or_default();
    let mut ports = BTreeMap::new();
    for p in c.ports.unwrap_or_default() {
        if let Some(public) = p.public_port {
            ports.insert(p.private_port, public);
        }
    }
    ObservedContainer {
        id: c.id.unwrap_or_default(),
        name: c
            .names
            .and_then(|n| n.into_iter().next())
            .unwrap_or_default()
            .trim_start_matches('/')
            .to_owned(),
        resource: labels.get(LABEL_RESOURCE).cloned().unwrap_or_default(),
        replica: labels
            .get(LABEL_REPLICA)
            .and_then(|r| r.parse().ok())
            .unwrap_or(0),
        state: c.state.map(|s| s.to_string()).unwrap_or_default(),
        config_hash: labels.get(LABEL_CONFIG).cloned().unwrap_or_default(),
        ports,
        node: None,
        zone: None,
    }
}

/// One CPU/memory sample of a container on `docker` (`None`: not running).
/// Shared by the one-host engine and the swarm's node daemons.
pub(crate) async fn usage_of(
    docker: &Docker,
    container: &str,
) -> Result<Option<UsageSample>, EngineError> {
    let mut stream = docker.stats(
        container,
        Some(
            bollard::query_parameters::StatsOptionsBuilder::default()
                .stream(false)
                .one_shot(true)
                .build(),
        ),
    );
    let s = match stream.next().await {
        None => return Ok(None),
        Some(Err(e)) => {
            let e: EngineError = e.into();
            return if e.is_not_found() { Ok(None) } else { Err(e) };
        }
        Some(Ok(s)) => s,
    };
    let cpu_ns = s
        .cpu_stats
        .as_ref()
        .and_then(|c| c.cpu_usage.as_ref())
        .and_then(|u| u.total_usage);
    let Some(cpu_ns) = cpu_ns else {
        return Ok(None);
    };
    let memory = s.memory_stats.as_ref().map_or(0, |m| {
        // like `docker stats`: usage without the page cache
        let cache = m
            .stats
            .as_ref()
            .and_then(|st| st.get("inactive_file").or_else(|| st.get("cache")))
            .copied()
            .unwrap_or(0);
        m.usage.unwrap_or(0).saturating_sub(cache)
    });
    Ok(Some(UsageSample {
        at: std::time::Instant::now(),
        cpu_ns,
        memory_bytes: memory,
    }))
}

/// Follow a container's output on `docker` (stdout and stderr), line by line.
pub(crate) fn follow_logs(
    docker: &Docker,
    container: &str,
    since: i64,
) -> BoxStream<'static, Result<String, EngineError>> {
    docker
        .logs(
            container,
            Some(
                LogsOptionsBuilder::default()
                    .follow(true)
                    .stdout(true)
                    .stderr(true)
                    .since(since as i32)
                    .build(),
            ),
        )
        .map(|item| {
            item.map(|o| String::from_utf8_lossy(&o.into_bytes()).into_owned())
                .map_err(EngineError::from)
        })
        .boxed()
}

/// The last `lines` lines a container on `docker` printed.
pub(crate) async fn tail_logs(docker: &Docker, container: &str, lines: usize) -> Vec<String> {
    let mut stream = docker.logs(
        container,
        Some(
            LogsOptionsBuilder::default()
                .follow(false)
                .stdout(true)
                .stderr(true)
                .tail(&lines.to_string())
                .build(),
        ),
    );
    let mut out = Vec::new();
    while let Some(Ok(item)) = stream.next().await {
        for line in String::from_utf8_lossy(&item.into_bytes()).lines() {
            out.push(line.to_owned());
        }
    }
    out
}
