//! The Docker body of one planned container: ports published on the bind
//! address, named volumes, the deployment's network and the compose options
//! the planner kept.

use std::collections::{BTreeMap, HashMap};

use bollard::models::{
    ContainerCreateBody, DeviceMapping, DeviceRequest, EndpointSettings, HealthConfig, HostConfig,
    Mount, MountTypeEnum, NetworkingConfig, PortBinding, ResourcesUlimits, RestartPolicy,
    RestartPolicyNameEnum,
};

use super::socket::shared_socket_bind;
use crate::plan::{DesiredContainer, DesiredStack};
use crate::runtime_opts::RuntimeOptions;

/// `labels` are ours (deployment, resource, replica, config hash, instance);
/// the spec's own labels are added where they do not clash.
pub(super) fn container_body(
    bind_address: &str,
    mut labels: HashMap<String, String>,
    stack: &DesiredStack,
    c: &DesiredContainer,
    keep_ports: &BTreeMap<u16, u16>,
) -> ContainerCreateBody {
    let mut exposed = HashMap::new();
    let mut bindings = HashMap::new();
    for p in &c.ports {
        exposed.insert(format!("{p}/tcp"), HashMap::new());
        bindings.insert(
            format!("{p}/tcp"),
            Some(vec![PortBinding {
                host_ip: Some(bind_address.to_owned()),
                host_port: Some(keep_ports.get(p).map(|h| h.to_string()).unwrap_or_default()),
            }]),
        );
    }
    let mut mounts: Vec<Mount> = c
        .volumes
        .iter()
        .map(|v| Mount {
            target: Some(v.target.clone()),
            source: Some(v.name.clone()),
            typ: Some(MountTypeEnum::VOLUME),
            ..Default::default()
        })
        .collect();
    // `volumes_from`: the other service's volumes (it created them)
    mounts.extend(c.shared_volumes.iter().map(|v| Mount {
        target: Some(v.target.clone()),
        source: Some(v.name.clone()),
        typ: Some(MountTypeEnum::VOLUME),
        read_only: v.read_only.then_some(true),
        ..Default::default()
    }));
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
    let device_requests = (!o.gpus.is_empty()).then(|| {
        o.gpus
            .iter()
            .map(|g| DeviceRequest {
                driver: g.driver.clone(),
                count: (g.device_ids.is_empty()).then_some(g.count),
                device_ids: (!g.device_ids.is_empty()).then(|| g.device_ids.clone()),
                capabilities: Some(vec![g.capabilities.clone()]),
                options: (!g.options.is_empty()).then(|| {
                    g.options
                        .iter()
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect()
                }),
            })
            .collect()
    });
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
        healthcheck: healthcheck(o),
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
            ulimits: ulimits(o),
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
            device_requests,
            ..Default::default()
        }),
        networking_config: Some(NetworkingConfig {
            endpoints_config: Some(endpoints),
        }),
        ..Default::default()
    };
    match &c.network_of {
        Some(other) => in_network_of(body, other),
        None => body,
    }
}

/// `network_mode: service:…`: the container joins the other's network
/// namespace, so it has no hostname, ports, aliases or DNS of its own
/// (Docker refuses them beside a container network mode).
fn in_network_of(mut body: ContainerCreateBody, other: &str) -> ContainerCreateBody {
    body.hostname = None;
    body.domainname = None;
    body.exposed_ports = None;
    body.networking_config = None;
    if let Some(h) = body.host_config.as_mut() {
        h.network_mode = Some(format!("container:{other}"));
        h.port_bindings = None;
        h.extra_hosts = None;
        h.dns = None;
        h.dns_search = None;
        h.dns_options = None;
    }
    body
}

/// Compose `healthcheck` as Docker's (zero durations left to the image's
/// defaults); the swarm's container spec takes the same type.
pub(crate) fn healthcheck(o: &RuntimeOptions) -> Option<HealthConfig> {
    o.healthcheck.as_ref().map(|h| HealthConfig {
        test: Some(h.test.clone()),
        interval: (h.interval > 0).then_some(h.interval),
        timeout: (h.timeout > 0).then_some(h.timeout),
        start_period: (h.start_period > 0).then_some(h.start_period),
        retries: (h.retries > 0).then_some(h.retries),
        ..Default::default()
    })
}

/// Compose `ulimits` as Docker's (`None` when the spec sets none); the swarm's
/// container spec takes the same type.
pub(crate) fn ulimits(o: &RuntimeOptions) -> Option<Vec<ResourcesUlimits>> {
    (!o.ulimits.is_empty()).then(|| {
        o.ulimits
            .iter()
            .map(|(name, soft, hard)| ResourcesUlimits {
                name: Some(name.clone()),
                soft: Some(*soft),
                hard: Some(*hard),
            })
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, HashMap};

    use bollard::models::RestartPolicyNameEnum;

    use super::container_body;
    use crate::plan::{plan, DesiredStack, ImageMap};

    const SPEC: &str = r#"services:
  Web:
    image: docker.io/library/nginx:1.27
    ports:
      - '8080'
    volumes:
      - ./data:/data
    environment:
      - GREETING=hello
    labels:
      team: blue
"#;

    fn stack() -> DesiredStack {
        let a = shared::analyze(SPEC);
        assert!(!a.has_errors(), "{:?}", a.diagnostics);
        let params =
            shared::params::resolve(&a.spec, &Default::default(), &mut |_| "gen".into()).unwrap();
        plan(&a, &params, "abc", &ImageMap::default(), 2.0).unwrap()
    }

    #[test]
    fn a_container_is_published_on_the_bind_address_on_its_network_with_its_volumes() {
        let stack = stack();
        let c = &stack.containers[0];
        let ours: HashMap<String, String> =
            [("org.specstudio.deployment".to_owned(), "abc".to_owned())].into();
        let keep: BTreeMap<u16, u16> = [(8080, 40123)].into();
        let body = container_body("127.0.0.1", ours, &stack, c, &keep);
        let host = body.host_config.as_ref().unwrap();
        let binding = &host.port_bindings.as_ref().unwrap()["8080/tcp"]
            .as_ref()
            .unwrap()[0];
        assert_eq!(binding.host_ip.as_deref(), Some("127.0.0.1"));
        assert_eq!(
            binding.host_port.as_deref(),
            Some("40123"),
            "kept host port"
        );
        assert_eq!(host.network_mode.as_deref(), Some(stack.network.as_str()));
        let mounts = host.mounts.as_ref().unwrap();
        assert_eq!(mounts.len(), 1);
        assert_eq!(
            mounts[0].source.as_deref(),
            Some(c.volumes[0].name.as_str())
        );
        assert_eq!(mounts[0].target.as_deref(), Some("/data"));
        // not a specstudio/mysql image: no shared socket directory
        assert!(host.binds.is_none());
        // a crash-looping container gives up after three restarts
        let restart = host.restart_policy.as_ref().unwrap();
        assert_eq!(restart.name, Some(RestartPolicyNameEnum::ON_FAILURE));
        assert_eq!(restart.maximum_retry_count, Some(3));
        let labels = body.labels.as_ref().unwrap();
        assert_eq!(labels["org.specstudio.deployment"], "abc");
        assert_eq!(labels["team"], "blue", "the spec's labels are kept");
        assert!(body
            .env
            .as_ref()
            .unwrap()
            .contains(&"GREETING=hello".to_owned()));
        // without ports to keep, Docker picks them
        let fresh = container_body("127.0.0.1", HashMap::new(), &stack, c, &BTreeMap::new());
        let binding = &fresh.host_config.unwrap().port_bindings.unwrap()["8080/tcp"]
            .as_ref()
            .unwrap()[0]
            .clone();
        assert_eq!(binding.host_port.as_deref(), Some(""));
    }

    /// `network_mode: service:Master`, `volumes_from` and `gpus` (allowed
    /// by the operator): the body Docker gets.
    #[test]
    fn a_sidecar_joins_the_other_containers_network_and_gpus_are_device_requests() {
        let text = "services:\n  Master:\n    image: busybox\n    ports: ['8080']\n    volumes: ['./d:/data']\n  Side:\n    image: busybox\n    network_mode: service:Master\n    volumes_from: ['Master:ro']\n    gpus: all\n";
        let a = shared::analyze(text);
        let none = shared::params::ResolvedParams { params: Vec::new() };
        let allowed = ["network_mode", "volumes_from", "gpus"]
            .iter()
            .map(|k| (*k).to_owned())
            .collect();
        let ctx = crate::plan::PlanContext {
            host_cpus: 2.0,
            allowed_host_keys: Some(&allowed),
            ..Default::default()
        };
        let stack = crate::plan::plan_with(&a, &none, "abc", &ctx).unwrap();
        let side = stack
            .containers
            .iter()
            .find(|c| c.resource == "Side")
            .unwrap();
        let body = container_body("127.0.0.1", HashMap::new(), &stack, side, &BTreeMap::new());
        let host = body.host_config.as_ref().unwrap();
        assert_eq!(
            host.network_mode.as_deref(),
            Some("container:ss-abc-master-0")
        );
        // Docker refuses these beside a container network mode
        assert!(body.hostname.is_none() && body.exposed_ports.is_none());
        assert!(body.networking_config.is_none() && host.port_bindings.is_none());
        let mounts = host.mounts.as_ref().unwrap();
        assert_eq!(mounts.len(), 1);
        assert_eq!(mounts[0].source.as_deref(), Some("ss-abc-master-0-0"));
        assert_eq!(mounts[0].target.as_deref(), Some("/data"));
        assert_eq!(mounts[0].read_only, Some(true));
        let gpus = serde_json::to_value(host.device_requests.as_ref().unwrap()).unwrap();
        assert_eq!(
            gpus,
            serde_json::json!([{"Count": -1, "Capabilities": [["gpu"]]}])
        );
        // the master keeps its own network, ports and mounts
        let master = &stack.containers[0];
        let body = container_body(
            "127.0.0.1",
            HashMap::new(),
            &stack,
            master,
            &BTreeMap::new(),
        );
        let host = body.host_config.unwrap();
        assert_eq!(host.network_mode.as_deref(), Some("ss-abc"));
        assert!(host.port_bindings.is_some() && host.device_requests.is_none());
    }
}
