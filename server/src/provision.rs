//! The Docker backend (bollard): create, observe and remove the labelled
//! objects of a deployment. Every object carries
//! `org.specstudio.managed-by=specstudio` and `org.specstudio.deployment=<id>`;
//! containers also the resource, the replica index and a config hash.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use bollard::errors::Error as DockerError;
use bollard::models::{
    ContainerCreateBody, DeviceMapping, EndpointSettings, HealthConfig, HostConfig, Mount,
    MountTypeEnum, NetworkCreateRequest, NetworkingConfig, PortBinding, ResourcesUlimits,
    RestartPolicy, RestartPolicyNameEnum, VolumeCreateOptions,
};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, CreateImageOptionsBuilder, ListContainersOptionsBuilder,
    ListNetworksOptionsBuilder, ListVolumesOptionsBuilder, LogsOptionsBuilder,
    RemoveContainerOptionsBuilder, RemoveVolumeOptionsBuilder, StopContainerOptionsBuilder,
};
use bollard::Docker;
use futures_util::{Stream, StreamExt};

use crate::deploy::{
    base_labels, DesiredContainer, DesiredStack, LABEL_CONFIG, LABEL_DEPLOYMENT, LABEL_INSTANCE,
    LABEL_MANAGED_BY, LABEL_REPLICA, LABEL_RESOURCE, MANAGED_BY,
};

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

/// One labelled container as Docker reports it.
#[derive(Clone, Debug)]
pub struct ObservedContainer {
    pub id: String,
    pub name: String,
    pub resource: String,
    pub replica: u32,
    pub state: String,
    pub config_hash: String,
    /// container port → host port (published on the bind address).
    pub ports: BTreeMap<u16, u16>,
}

impl ObservedContainer {
    pub fn running(&self) -> bool {
        self.state == "running"
    }
}

/// Every labelled object of a deployment.
/// Cumulative CPU time of a container at an instant (Docker stats).
#[derive(Clone, Copy, Debug)]
pub struct UsageSample {
    pub at: std::time::Instant,
    /// Total CPU time used since the container started, in nanoseconds.
    pub cpu_ns: u64,
    pub memory_bytes: u64,
}

impl UsageSample {
    /// CPU used between `earlier` and `self`, as a percent of `limit_cpus`
    /// (the container's CPU limit, or the host's CPUs without one).
    pub fn cpu_percent_since(&self, earlier: &UsageSample, limit_cpus: f64) -> Option<f64> {
        let wall = self.at.checked_duration_since(earlier.at)?.as_nanos() as f64;
        if wall <= 0.0 || limit_cpus <= 0.0 || self.cpu_ns < earlier.cpu_ns {
            return None;
        }
        Some((self.cpu_ns - earlier.cpu_ns) as f64 / wall / limit_cpus * 100.0)
    }
}

#[derive(Clone, Debug, Default)]
pub struct Observed {
    pub containers: Vec<ObservedContainer>,
    pub networks: Vec<String>,
    pub volumes: Vec<String>,
}

#[derive(Clone)]
pub struct Engine {
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

impl Engine {
    /// Connect to `host` (`unix:///…`, `tcp://…`; default: `DOCKER_HOST` or
    /// the local socket) and negotiate the API version with the engine.
    pub async fn connect(
        host: Option<&str>,
        bind_address: &str,
        instance: &str,
    ) -> Result<Engine, EngineError> {
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
        Ok(Engine {
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

    pub async fn image_exists(&self, image: &str) -> Result<bool, EngineError> {
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
    pub async fn pull(&self, image: &str, timeout: Duration) -> Result<(), String> {
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
                item.map_err(|e| e.to_string())?;
            }
            Ok::<(), String>(())
        };
        match tokio::time::timeout(timeout, pull).await {
            Ok(r) => r,
            Err(_) => Err(format!(
                "no registry answered within {} s",
                timeout.as_secs()
            )),
        }
    }

    pub async fn observe(&self, deployment: &str) -> Result<Observed, EngineError> {
        self.observe_filter(&[
            (LABEL_MANAGED_BY, MANAGED_BY),
            (LABEL_DEPLOYMENT, deployment),
        ])
        .await
    }

    /// Every object this server instance manages, grouped by deployment label.
    pub async fn observe_all(&self) -> Result<BTreeMap<String, Observed>, EngineError> {
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
            let labels = c.labels.unwrap_or_default();
            if let (Some(dep), Some(id)) = (labels.get(LABEL_DEPLOYMENT), c.id) {
                out.entry(dep.clone())
                    .or_default()
                    .containers
                    .push(ObservedContainer {
                        id,
                        name: String::new(),
                        resource: String::new(),
                        replica: 0,
                        state: String::new(),
                        config_hash: String::new(),
                        ports: BTreeMap::new(),
                    });
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

    async fn observe_filter(&self, labels: &[(&str, &str)]) -> Result<Observed, EngineError> {
        let filters = label_filter(labels);
        let list = self
            .docker
            .list_containers(Some(
                ListContainersOptionsBuilder::default()
                    .all(true)
                    .filters(&filters)
                    .build(),
            ))
            .await?;
        let mut observed = Observed::default();
        for c in list {
            let labels = c.labels.unwrap_or_default();
            let mut ports = BTreeMap::new();
            for p in c.ports.unwrap_or_default() {
                if let Some(public) = p.public_port {
                    ports.insert(p.private_port, public);
                }
            }
            observed.containers.push(ObservedContainer {
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
            });
        }
        let nets = self
            .docker
            .list_networks(Some(
                ListNetworksOptionsBuilder::default()
                    .filters(&filters)
                    .build(),
            ))
            .await?;
        observed.networks = nets.into_iter().filter_map(|n| n.name).collect();
        let vols = self
            .docker
            .list_volumes(Some(
                ListVolumesOptionsBuilder::default()
                    .filters(&filters)
                    .build(),
            ))
            .await?;
        observed.volumes = vols
            .volumes
            .unwrap_or_default()
            .into_iter()
            .map(|v| v.name)
            .collect();
        Ok(observed)
    }

    /// Create the deployment's network unless it exists. `true` when created.
    pub async fn ensure_network(&self, stack: &DesiredStack) -> Result<bool, EngineError> {
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

    /// Create a labelled volume unless it exists. `true` when created.
    pub async fn ensure_volume(
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
    pub async fn create_container(
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

    async fn create_container_once(
        &self,
        stack: &DesiredStack,
        c: &DesiredContainer,
        keep_ports: &BTreeMap<u16, u16>,
    ) -> Result<(), EngineError> {
        let mut exposed = HashMap::new();
        let mut bindings = HashMap::new();
        for p in &c.ports {
            exposed.insert(format!("{p}/tcp"), HashMap::new());
            bindings.insert(
                format!("{p}/tcp"),
                Some(vec![PortBinding {
                    host_ip: Some(self.bind_address.clone()),
                    host_port: Some(keep_ports.get(p).map(|h| h.to_string()).unwrap_or_default()),
                }]),
            );
        }
        let mounts = c
            .volumes
            .iter()
            .map(|v| Mount {
                target: Some(v.target.clone()),
                source: Some(v.name.clone()),
                typ: Some(MountTypeEnum::VOLUME),
                ..Default::default()
            })
            .collect();
        let mut endpoints = HashMap::new();
        endpoints.insert(
            stack.network.clone(),
            EndpointSettings {
                aliases: Some(c.aliases.clone()),
                ..Default::default()
            },
        );
        let o = &c.opts;
        for p in &o.expose {
            exposed
                .entry(format!("{p}/tcp"))
                .or_insert_with(HashMap::new);
        }
        let mut labels = self.labels(c.labels(&stack.deployment));
        for (k, v) in &o.labels {
            // ours win (the planner refuses the namespace anyway)
            labels.entry(k.clone()).or_insert_with(|| v.clone());
        }
        let list = |v: &Vec<String>| (!v.is_empty()).then(|| v.clone());
        let restart_policy = match &o.restart {
            Some((name, max)) => RestartPolicy {
                name: Some(match name.as_str() {
                    "no" => RestartPolicyNameEnum::NO,
                    "always" => RestartPolicyNameEnum::ALWAYS,
                    "unless-stopped" => RestartPolicyNameEnum::UNLESS_STOPPED,
                    _ => RestartPolicyNameEnum::ON_FAILURE,
                }),
                maximum_retry_count: (name == "on-failure" && *max > 0).then_some(*max),
            },
            // a crash-looping container gives up (the deployment is
            // `failed`); the controller restarts stopped ones it wants
            None => RestartPolicy {
                name: Some(RestartPolicyNameEnum::ON_FAILURE),
                maximum_retry_count: Some(3),
            },
        };
        let body = ContainerCreateBody {
            image: Some(c.image.clone()),
            hostname: Some(o.hostname.clone().unwrap_or_else(|| c.name.clone())),
            domainname: o.domainname.clone(),
            user: o.user.clone(),
            working_dir: o.working_dir.clone(),
            stop_signal: o.stop_signal.clone(),
            stop_timeout: o.stop_timeout,
            tty: o.tty,
            open_stdin: o.stdin_open,
            healthcheck: o.healthcheck.as_ref().map(|h| HealthConfig {
                test: Some(h.test.clone()),
                interval: (h.interval > 0).then_some(h.interval),
                timeout: (h.timeout > 0).then_some(h.timeout),
                start_period: (h.start_period > 0).then_some(h.start_period),
                retries: (h.retries > 0).then_some(h.retries),
                ..Default::default()
            }),
            env: Some(c.env.iter().map(|(k, v)| format!("{k}={v}")).collect()),
            // compose `entrypoint`/`command`; `None` keeps the image's (an
            // entrypoint given without a command drops the image's command,
            // as in compose)
            entrypoint: c.entrypoint.clone(),
            cmd: c.command.clone(),
            labels: Some(labels),
            exposed_ports: Some(exposed),
            host_config: Some(HostConfig {
                port_bindings: Some(bindings),
                mounts: Some(mounts),
                binds: shared_socket_bind(c).map(|b| vec![b]),
                nano_cpus: c.nano_cpus,
                memory: c.memory,
                pids_limit: Some(c.pids_limit),
                network_mode: Some(stack.network.clone()),
                restart_policy: Some(restart_policy),
                ulimits: (!o.ulimits.is_empty()).then(|| {
                    o.ulimits
                        .iter()
                        .map(|(name, soft, hard)| ResourcesUlimits {
                            name: Some(name.clone()),
                            soft: Some(*soft),
                            hard: Some(*hard),
                        })
                        .collect()
                }),
                readonly_rootfs: o.read_only,
                shm_size: o.shm_size,
                tmpfs: (!o.tmpfs.is_empty()).then(|| {
                    o.tmpfs
                        .iter()
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect()
                }),
                extra_hosts: list(&o.extra_hosts),
                dns: list(&o.dns),
                dns_search: list(&o.dns_search),
                dns_options: list(&o.dns_opt),
                init: o.init,
                cap_drop: list(&o.cap_drop),
                group_add: list(&o.group_add),
                // host-escaping: only set when the operator allowed the key
                privileged: o.privileged,
                cap_add: list(&o.cap_add),
                security_opt: list(&o.security_opt),
                sysctls: (!o.sysctls.is_empty()).then(|| {
                    o.sysctls
                        .iter()
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect()
                }),
                pid_mode: o.pid.clone(),
                ipc_mode: o.ipc.clone(),
                uts_mode: o.uts.clone(),
                userns_mode: o.userns_mode.clone(),
                devices: (!o.devices.is_empty()).then(|| {
                    o.devices
                        .iter()
                        .map(|(h, c, p)| DeviceMapping {
                            path_on_host: Some(h.clone()),
                            path_in_container: Some(c.clone()),
                            cgroup_permissions: Some(p.clone()),
                        })
                        .collect()
                }),
                cgroup_parent: o.cgroup_parent.clone(),
                runtime: o.runtime.clone(),
                oom_kill_disable: o.oom_kill_disable,
                ..Default::default()
            }),
            networking_config: Some(NetworkingConfig {
                endpoints_config: Some(endpoints),
            }),
            ..Default::default()
        };
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

    pub async fn start(&self, name: &str) -> Result<(), EngineError> {
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
    pub async fn stop(&self, name: &str, grace_secs: i32) -> Result<(), EngineError> {
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

    /// One CPU/memory sample of a running container (`None`: not running).
    pub async fn usage_sample(&self, name: &str) -> Result<Option<UsageSample>, EngineError> {
        let mut stream = self.docker.stats(
            name,
            Some(
                bollard::query_parameters::StatsOptionsBuilder::default()
                    .stream(false)
                    .one_shot(true)
                    .build(),
            ),
        );
        match stream.next().await {
            None => Ok(None),
            Some(Err(e)) => {
                let e: EngineError = e.into();
                if e.is_not_found() {
                    Ok(None)
                } else {
                    Err(e)
                }
            }
            Some(Ok(s)) => {
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
        }
    }

    pub async fn remove_container(&self, name_or_id: &str) -> Result<(), EngineError> {
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

    pub async fn remove_volume(&self, name: &str) -> Result<(), EngineError> {
        let result = self
            .docker
            .remove_volume(
                name,
                Some(RemoveVolumeOptionsBuilder::default().force(true).build()),
            )
            .await;
        ignore_not_found(result)
    }

    pub async fn remove_network(&self, name: &str) -> Result<(), EngineError> {
        ignore_not_found(self.docker.remove_network(name).await)
    }

    /// Copy the contents of volume `from` into volume `to` (which must exist)
    /// with a short-lived labelled helper container of `image` (`cp -a`, so
    /// ownership and modes are kept), then remove the helper. `drop` lists
    /// paths (relative to the volume) removed from the copy.
    pub async fn copy_volume(
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
        let name = format!("ss-{deployment}-copy-{}", crate::deploy::hex(&suffix));
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

    /// Remove every labelled object of a deployment: containers, then
    /// volumes, then the network.
    pub async fn teardown(&self, deployment: &str) -> Result<Observed, EngineError> {
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

    /// Follow a container's output (stdout and stderr), line by line.
    pub fn logs(
        &self,
        name: &str,
        since: i64,
    ) -> impl Stream<Item = Result<bollard::container::LogOutput, DockerError>> + use<> {
        self.docker.logs(
            name,
            Some(
                LogsOptionsBuilder::default()
                    .follow(true)
                    .stdout(true)
                    .stderr(true)
                    .since(since as i32)
                    .build(),
            ),
        )
    }

    /// The last lines a container printed (for failure messages).
    pub async fn tail(&self, name: &str, lines: usize) -> Vec<String> {
        let mut stream = self.docker.logs(
            name,
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

    /// Container ports → host ports of one container, by inspecting it.
    pub async fn host_ports(&self, name: &str) -> Result<BTreeMap<u16, u16>, EngineError> {
        let info = self
            .docker
            .inspect_container(
                name,
                None::<bollard::query_parameters::InspectContainerOptions>,
            )
            .await?;
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

    /// Whether a container is running (`None`: it does not exist).
    pub async fn container_state(
        &self,
        name: &str,
    ) -> Result<Option<(String, Option<i64>)>, EngineError> {
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
                    state.status.map(|s| s.to_string()).unwrap_or_default(),
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

/// Host directory under which each `specstudio/mysql` container's
/// `/run/mysqld` is bind-mounted, so the endpoints reach `mysqld` over its
/// Unix socket (no loopback TCP, no docker-proxy). Root-only `/run`: a server
/// that cannot create it (not root) keeps the TCP path.
pub const SOCKET_ROOT: &str = "/run/specstudio/sockets";

/// The group that may pass through [`SOCKET_ROOT`]: Debian's `nogroup`, the
/// group the endpoints' socket connector runs as.
pub const SOCKET_GROUP: u32 = 65534;

/// The image's socket directory (`images/mysql/entrypoint.sh`).
const IMAGE_RUN_DIR: &str = "/run/mysqld";

/// The host directory shared with `container` as its `/run/mysqld`.
pub fn socket_dir(container: &str) -> std::path::PathBuf {
    std::path::Path::new(SOCKET_ROOT).join(container)
}

/// The socket of `container`'s `mysqld` when the container shares its socket
/// directory and the server is up (the socket exists).
pub fn shared_socket(container: &str) -> Option<std::path::PathBuf> {
    if container.is_empty() || container.contains(['/', '.']) {
        return None;
    }
    let socket = socket_dir(container).join("mysqld.sock");
    socket.exists().then_some(socket)
}

/// The bind (`host:container`) sharing a `specstudio/mysql` container's
/// socket directory with the host; `None` for other images, a server that
/// cannot make the directory (not root), or a name that is not a plain file
/// name. A bind, not a mount: a remote Docker host creates the missing source
/// itself, and the endpoints, finding no socket here, use TCP.
fn shared_socket_bind(c: &DesiredContainer) -> Option<String> {
    if !c.image.starts_with("specstudio/mysql") || c.name.is_empty() || c.name.contains(['/', '.'])
    {
        return None;
    }
    use std::os::unix::fs::PermissionsExt;
    let root = std::path::Path::new(SOCKET_ROOT);
    let dir = socket_dir(&c.name);
    let made = std::fs::create_dir_all(&dir)
        // only root and the endpoints' connector (group `nogroup`) pass
        // through: a host process whose uid happens to be the container's
        // `mysql` uid must not reach the socket (its peer-uid account)
        .and_then(|_| std::os::unix::fs::chown(root, Some(0), Some(SOCKET_GROUP)))
        .and_then(|_| std::fs::set_permissions(root, std::fs::Permissions::from_mode(0o710)))
        // mysqld runs as the image's own `mysql` user
        .and_then(|_| std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)));
    if let Err(e) = made {
        tracing::debug!(container = %c.name, "no shared socket directory ({e}); endpoints use TCP");
        return None;
    }
    Some(format!("{}:{IMAGE_RUN_DIR}", dir.to_str()?))
}

/// Forget a removed container's shared socket directory (best effort).
pub fn remove_socket_dir(container: &str) {
    if !container.is_empty() && !container.contains(['/', '.']) {
        let _ = std::fs::remove_dir_all(socket_dir(container));
    }
}

/// Removal is idempotent: an object that is already gone is success.
fn ignore_not_found(result: Result<(), DockerError>) -> Result<(), EngineError> {
    match result.map_err(EngineError::from) {
        Err(e) if e.is_not_found() => Ok(()),
        other => other,
    }
}
