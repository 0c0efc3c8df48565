//! From a checked spec and resolved params to a *desired* stack: containers
//! with their env (templates resolved), volumes, ports, limits and labels.
//!
//! Pure: no Docker, no I/O. Everything a client can get wrong is found here,
//! before the provisioner creates anything.
//!
//! ## Instance types
//! Instance-type params map to Docker CPU/memory limits through
//! [`INSTANCE_TYPES`]. CPU limits are clamped to the host's CPU count (Docker
//! refuses more CPUs than the host has); memory is applied as given.
//!
//! ## Volumes
//! A relative bind (`./data:/var/lib/mysql`), a named volume or an anonymous
//! volume becomes one Docker named volume per container
//! (`ss-<deployment>-<resource>-<replica>-<n>`): master and replicas never
//! share a data directory. For bitnami-like MySQL images (the source image is
//! `bitnami/mysql`/`bitnamilegacy/mysql`, or it was mapped to
//! `specstudio/mysql`), a target of `/var/lib/mysql` is mapped to the image's
//! real data dir `/bitnami/mysql/data` (the seed's mount would otherwise
//! persist nothing). Absolute host paths are refused: a server must not hand
//! host directories to containers.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use sha2::{Digest, Sha256};
use shared::model::{MountKind, Service, Spec};
use shared::params::ResolvedParams;
use shared::resolve::{self, Unresolved, Values};
use shared::template::{RefKind, RefScope};

pub const LABEL_MANAGED_BY: &str = "org.specstudio.managed-by";
pub const LABEL_DEPLOYMENT: &str = "org.specstudio.deployment";
pub const LABEL_RESOURCE: &str = "org.specstudio.resource";
pub const LABEL_REPLICA: &str = "org.specstudio.replica";
pub const LABEL_CONFIG: &str = "org.specstudio.config-hash";
/// Which server (data dir) owns an object: orphan clean-up only touches its own.
pub const LABEL_INSTANCE: &str = "org.specstudio.instance";
pub const MANAGED_BY: &str = "specstudio";

/// Max containers of one service.
pub const MAX_INSTANCES_PER_SERVICE: u32 = 20;
/// Max containers of one deployment.
pub const MAX_CONTAINERS: usize = 50;

/// `(instance type, vCPUs, memory MiB)`: aws and gcp types.
pub const INSTANCE_TYPES: &[(&str, f64, u64)] = &[
    // aws
    ("t3.micro", 2.0, 1024),
    ("t3.small", 2.0, 2048),
    ("t3.medium", 2.0, 4096),
    ("t3.large", 2.0, 8192),
    ("t3.xlarge", 4.0, 16384),
    ("m5.large", 2.0, 8192),
    ("m5.xlarge", 4.0, 16384),
    ("r5.large", 2.0, 16384),
    // gcp
    ("e2-small", 2.0, 2048),
    ("e2-medium", 2.0, 4096),
    ("e2-standard-2", 2.0, 8192),
    ("e2-standard-4", 4.0, 16384),
    ("n2-standard-2", 2.0, 8192),
    ("n2-standard-4", 4.0, 16384),
];

pub fn instance_type(name: &str) -> Option<(f64, u64)> {
    INSTANCE_TYPES
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, c, m)| (*c, *m))
}

/// `FROM=TO` image rewrites; `FROM` may hold `*` wildcards.
#[derive(Clone, Debug, Default)]
pub struct ImageMap(pub Vec<(String, String)>);

impl ImageMap {
    pub fn parse(items: &[String]) -> Result<ImageMap, String> {
        let mut out = Vec::new();
        for item in items {
            for part in item.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                let (from, to) = part
                    .split_once('=')
                    .ok_or_else(|| format!("--image-map `{part}`: expected FROM=TO"))?;
                if from.is_empty() || to.is_empty() {
                    return Err(format!("--image-map `{part}`: expected FROM=TO"));
                }
                out.push((from.to_owned(), to.to_owned()));
            }
        }
        Ok(ImageMap(out))
    }

    /// The image to run for `image`.
    pub fn map(&self, image: &str) -> String {
        let normalized = normalize_image(image);
        for (from, to) in &self.0 {
            if glob(from, image)
                || glob(from, &normalized)
                || glob(&normalize_image(from), &normalized)
            {
                return to.clone();
            }
        }
        image.to_owned()
    }
}

/// `bitnami/mysql:8` → `docker.io/bitnami/mysql:8`; `mysql` → `docker.io/library/mysql`.
pub fn normalize_image(image: &str) -> String {
    let first = image.split('/').next().unwrap_or(image);
    let has_registry =
        image.contains('/') && (first.contains('.') || first.contains(':') || first == "localhost");
    if has_registry {
        image.to_owned()
    } else if image.contains('/') {
        format!("docker.io/{image}")
    } else {
        format!("docker.io/library/{image}")
    }
}

/// Glob with `*` (any run of characters).
pub fn glob(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let mut rest = text;
    let first = parts[0];
    if !rest.starts_with(first) {
        return false;
    }
    rest = &rest[first.len()..];
    let last = parts[parts.len() - 1];
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(i) => rest = &rest[i + mid.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

pub fn is_bitnami_mysql(source: &str, mapped: &str) -> bool {
    let s = normalize_image(source);
    let base = s
        .rsplit_once(':')
        .map(|(b, t)| if t.contains('/') { s.as_str() } else { b })
        .unwrap_or(&s);
    base.ends_with("/bitnami/mysql")
        || base.ends_with("/bitnamilegacy/mysql")
        || base.ends_with("/bitnami/mariadb")
        || mapped.starts_with("specstudio/mysql")
}

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
    pub endpoint: bool,
    pub probe: Probe,
    pub config_hash: String,
}

impl DesiredContainer {
    pub fn labels(&self, deployment: &str) -> BTreeMap<String, String> {
        let mut l = base_labels(deployment);
        l.insert(LABEL_RESOURCE.into(), self.resource.clone());
        l.insert(LABEL_REPLICA.into(), self.replica.to_string());
        l.insert(LABEL_CONFIG.into(), self.config_hash.clone());
        l
    }
}

pub fn base_labels(deployment: &str) -> BTreeMap<String, String> {
    let mut l = BTreeMap::new();
    l.insert(LABEL_MANAGED_BY.into(), MANAGED_BY.into());
    l.insert(LABEL_DEPLOYMENT.into(), deployment.into());
    l
}

/// The whole desired stack of a deployment, in creation order.
#[derive(Clone, Debug)]
pub struct DesiredStack {
    pub deployment: String,
    pub network: String,
    pub containers: Vec<DesiredContainer>,
}

impl DesiredStack {
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
    Unresolved(Unresolved),
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
            PlanIssue::Unresolved(u) => format!(
                "{} {}: cannot resolve `{}`: {}",
                u.service, u.via, u.reference, u.message
            ),
        }
    }
}

fn sanitize(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let s = s.trim_matches('-').to_owned();
    if s.is_empty() {
        "svc".into()
    } else {
        s
    }
}

/// Services in creation order: a service whose values reference another
/// service's system values comes after it.
fn service_order(spec: &Spec) -> Vec<usize> {
    let n = spec.services.len();
    let mut deps: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); n];
    for t in &spec.templates {
        if let (RefScope::Resource(key), RefKind::Sys) = (&t.reference.scope, t.reference.kind) {
            if let Some(target) = spec.services.iter().position(|s| &s.resource_key() == key) {
                if target != t.service {
                    deps[t.service].insert(target);
                }
            }
        }
    }
    let mut order = Vec::new();
    let mut done = vec![false; n];
    for _ in 0..n {
        for i in 0..n {
            if !done[i] && deps[i].iter().all(|d| done[*d]) {
                done[i] = true;
                order.push(i);
            }
        }
    }
    // cycles: append the rest in spec order
    order.extend((0..n).filter(|i| !done[*i]));
    order
}

fn replica_count(service: &Service, params: &ResolvedParams) -> Result<u32, PlanIssue> {
    let Some(compute) = &service.compute else {
        return Ok(1);
    };
    let (value, text) = if let Some(key) = &compute.replica_count_api_param {
        let text = params
            .get(&service.name.value, &key.value)
            .map(|p| p.value.clone())
            .unwrap_or_default();
        (text.trim().parse::<f64>().ok(), text)
    } else if let Some(n) = &compute.replica_count {
        (Some(n.value), n.value.to_string())
    } else {
        return Ok(1);
    };
    let issue = |message: String| PlanIssue::ReplicaCount {
        service: service.name.value.clone(),
        value: text.clone(),
        message,
    };
    let n = value.ok_or_else(|| issue(format!("replica count `{text}` is not a number")))?;
    if n.fract() != 0.0 || n < 0.0 {
        return Err(issue(format!(
            "replica count `{text}` is not a whole number ≥ 0"
        )));
    }
    if n > MAX_INSTANCES_PER_SERVICE as f64 {
        return Err(issue(format!(
            "replica count {text} is above this server's limit of {MAX_INSTANCES_PER_SERVICE}"
        )));
    }
    Ok(n as u32)
}

/// `(instance type, cpus, MiB)` of a service, if it declares one.
fn limits(
    service: &Service,
    params: &ResolvedParams,
) -> Result<Option<(String, f64, u64)>, PlanIssue> {
    let Some(compute) = &service.compute else {
        return Ok(None);
    };
    let Some(it) = compute.instance_types.first() else {
        return Ok(None);
    };
    let (value, param) = if let Some(key) = &it.api_param {
        let v = params
            .get(&service.name.value, &key.value)
            .map(|p| p.value.clone())
            .unwrap_or_default();
        (v, Some(key.value.clone()))
    } else if let Some(name) = &it.name {
        (name.value.clone(), None)
    } else {
        return Ok(None);
    };
    match instance_type(value.trim()) {
        Some((cpus, mib)) => Ok(Some((value.trim().to_owned(), cpus, mib))),
        None => Err(PlanIssue::UnknownInstanceType {
            service: service.name.value.clone(),
            param,
            value,
            known: INSTANCE_TYPES.iter().map(|t| t.0).collect(),
        }),
    }
}

/// Build the desired stack. `host_cpus` clamps CPU limits.
pub fn plan(
    spec: &Spec,
    params: &ResolvedParams,
    deployment: &str,
    images: &ImageMap,
    host_cpus: f64,
) -> Result<DesiredStack, Vec<PlanIssue>> {
    let mut issues = Vec::new();
    let mut values = Values::from_params(params);
    struct Pre {
        index: usize,
        count: u32,
        limits: Option<(String, f64, u64)>,
        alias: String,
        ports: Vec<u16>,
    }
    let mut pre = Vec::new();
    let mut used_aliases = BTreeSet::new();
    for index in service_order(spec) {
        let service = &spec.services[index];
        if service.is_passive() {
            continue;
        }
        if service.image.is_none() {
            issues.push(PlanIssue::NoImage {
                service: service.name.value.clone(),
            });
            continue;
        }
        let count = replica_count(service, params).unwrap_or_else(|e| {
            issues.push(e);
            0
        });
        let lim = limits(service, params).unwrap_or_else(|e| {
            issues.push(e);
            None
        });
        let mut alias = sanitize(&service.resource_key());
        while !used_aliases.insert(alias.clone()) {
            alias.push('x');
        }
        let mut ports: Vec<u16> = Vec::new();
        let target_port = service
            .capabilities
            .as_ref()
            .and_then(|c| c.serverless.as_ref())
            .and_then(|s| s.target_port.as_ref())
            .map(|p| p.value as u16);
        if let Some(p) = target_port {
            ports.push(p);
        }
        for p in service.container_ports().take(16) {
            if let Ok(p) = u16::try_from(p) {
                if !ports.contains(&p) {
                    ports.push(p);
                }
            }
        }
        let name = &service.name.value;
        for ep in [
            "externalClusterServerlessEndpoint",
            "internalClusterServerlessEndpoint",
        ] {
            values.set_sys(name, &format!("network.{ep}.endpointName"), &alias);
            for (i, p) in ports.iter().enumerate() {
                values.set_sys(
                    name,
                    &format!("network.{ep}.openPorts[{i}]"),
                    &p.to_string(),
                );
            }
        }
        values.set_sys(name, "network.externalClusterEndpoint", &alias);
        values.set_sys(name, "network.internalClusterEndpoint", &alias);
        values.set_sys(name, "id", deployment);
        values.set_sys(name, "compute.numNodes", &count.to_string());
        if let Some((it, cpus, mib)) = &lim {
            values.set_sys(name, "compute.node.instanceType", it);
            values.set_sys(name, "compute.node.cores", &(*cpus as u64).to_string());
            values.set_sys(name, "compute.node.memory", &(mib / 1024).to_string());
        }
        pre.push(Pre {
            index,
            count,
            limits: lim,
            alias,
            ports,
        });
    }
    let mut containers = Vec::new();
    for p in &pre {
        let service = &spec.services[p.index];
        let name = &service.name.value;
        let source_image = service
            .image
            .as_ref()
            .map(|i| i.value.clone())
            .unwrap_or_default();
        let image = images.map(&source_image);
        let bitnami = is_bitnami_mysql(&source_image, &image);
        let per_replica = service
            .capabilities
            .as_ref()
            .and_then(|c| c.enable_endpoint_per_replica.as_ref())
            .is_some_and(|e| e.value);
        for replica in 0..p.count {
            let cname = format!("ss-{deployment}-{}-{replica}", p.alias);
            let mut v = values.clone();
            v.set_sys(name, "compute.node.index", &replica.to_string());
            v.set_sys(name, "compute.node.name", &cname);
            v.set_sys(name, "network.node.internalEndpoint", &cname);
            let mut env = match resolve::resolve_environment(spec, service, &v) {
                Ok(env) => env,
                Err(us) => {
                    if replica == 0 {
                        issues.extend(us.into_iter().map(PlanIssue::Unresolved));
                    }
                    continue;
                }
            };
            if bitnami && !env.iter().any(|(k, _)| k == "MYSQL_SERVER_ID") {
                // distinct per container of the deployment
                let id = (p.index as u32 + 1) * 1000 + replica + 1;
                env.push(("MYSQL_SERVER_ID".into(), id.to_string()));
            }
            let mut volumes = Vec::new();
            for (n, m) in service.volumes.iter().enumerate() {
                let Some(target) = &m.target else { continue };
                let source = m.source.as_ref().map(|s| s.value.as_str()).unwrap_or("");
                match m.kind {
                    MountKind::Bind if !source.starts_with('.') => {
                        if replica == 0 {
                            issues.push(PlanIssue::HostPath {
                                service: name.clone(),
                                source: source.to_owned(),
                            });
                        }
                        continue;
                    }
                    MountKind::Tmpfs | MountKind::Other => continue,
                    _ => {}
                }
                let mut target = target.value.clone();
                if bitnami && target.trim_end_matches('/') == "/var/lib/mysql" {
                    target = "/bitnami/mysql/data".into();
                }
                volumes.push(DesiredVolume {
                    name: format!("ss-{deployment}-{}-{replica}-{n}", p.alias),
                    target,
                });
            }
            let probe = if p.ports.is_empty() {
                Probe::None
            } else if bitnami {
                let get = |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
                let replica_mode = get("MYSQL_REPLICATION_MODE").as_deref() == Some("slave");
                let password = if replica_mode {
                    get("MYSQL_MASTER_ROOT_PASSWORD")
                } else {
                    get("MYSQL_ROOT_PASSWORD")
                }
                .unwrap_or_default();
                let user = if replica_mode {
                    get("MYSQL_MASTER_ROOT_USER")
                } else {
                    get("MYSQL_ROOT_USER")
                }
                .unwrap_or_else(|| "root".into());
                Probe::Mysql {
                    user,
                    password,
                    replica: replica_mode,
                }
            } else {
                Probe::Tcp
            };
            let (nano_cpus, memory) = match &p.limits {
                Some((_, cpus, mib)) => (
                    Some((cpus.min(host_cpus) * 1e9) as i64),
                    Some((*mib as i64) * 1024 * 1024),
                ),
                None => (None, None),
            };
            let mut c = DesiredContainer {
                name: cname.clone(),
                resource: name.clone(),
                replica,
                image: image.clone(),
                source_image: source_image.clone(),
                env,
                volumes,
                ports: p.ports.clone(),
                aliases: vec![p.alias.clone(), cname],
                nano_cpus,
                memory,
                endpoint: per_replica || replica == 0,
                probe,
                config_hash: String::new(),
            };
            c.config_hash = config_hash(&c);
            containers.push(c);
        }
    }
    let total: usize = pre.iter().map(|p| p.count as usize).sum();
    if total > MAX_CONTAINERS {
        issues.push(PlanIssue::TooManyContainers {
            count: total,
            max: MAX_CONTAINERS,
        });
    }
    if issues.is_empty() {
        Ok(DesiredStack {
            deployment: deployment.to_owned(),
            network: format!("ss-{deployment}"),
            containers,
        })
    } else {
        Err(issues)
    }
}

fn config_hash(c: &DesiredContainer) -> String {
    let mut h = Sha256::new();
    h.update(c.image.as_bytes());
    for (k, v) in &c.env {
        h.update(k.as_bytes());
        h.update([0]);
        h.update(v.as_bytes());
        h.update([1]);
    }
    for v in &c.volumes {
        h.update(v.name.as_bytes());
        h.update(v.target.as_bytes());
    }
    for p in &c.ports {
        h.update(p.to_le_bytes());
    }
    h.update(format!("{:?}{:?}{:?}", c.nano_cpus, c.memory, c.aliases).as_bytes());
    hex(&h.finalize()[..8])
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob(
            "docker.io/bitnami/mysql:*",
            "docker.io/bitnami/mysql:8.1.0"
        ));
        assert!(!glob(
            "docker.io/bitnami/mysql:*",
            "docker.io/bitnami/redis:7"
        ));
        assert!(glob("*", "x"));
        assert!(glob("a*c*e", "abcde"));
        let m =
            ImageMap::parse(&["docker.io/bitnami/mysql:*=specstudio/mysql:local".into()]).unwrap();
        assert_eq!(m.map("bitnami/mysql:8.1.0"), "specstudio/mysql:local");
        assert_eq!(m.map("nginx"), "nginx");
    }

    #[test]
    fn seed_plans() {
        let text = include_str!("../../examples/serverless-mysql-master-replica.yaml");
        let a = shared::analyze(text);
        let mut given = BTreeMap::new();
        for (k, v) in [
            ("masterInstanceType", "t3.small"),
            ("replicaInstanceType", "t3.small"),
            ("mysqlUsername", "app"),
            ("mysqlDatabase", "appdb"),
            ("numReadReplicas", "2"),
        ] {
            given.insert(k.to_owned(), serde_json::Value::String(v.into()));
        }
        let params = shared::params::resolve(&a.spec, &given, &mut |_| "gen".into()).unwrap();
        let m =
            ImageMap::parse(&["docker.io/bitnami/mysql:*=specstudio/mysql:local".into()]).unwrap();
        let stack = plan(&a.spec, &params, "abc", &m, 2.0).unwrap();
        let names: Vec<&str> = stack.containers.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names,
            vec!["ss-abc-master-0", "ss-abc-replica-0", "ss-abc-replica-1"]
        );
        let r = &stack.containers[1];
        let env: BTreeMap<_, _> = r.env.iter().cloned().collect();
        assert_eq!(env["MYSQL_MASTER_HOST"], "master");
        assert_eq!(env["MYSQL_MASTER_PORT_NUMBER"], "3306");
        assert_eq!(r.volumes[0].target, "/bitnami/mysql/data");
        assert_ne!(
            env["MYSQL_SERVER_ID"],
            stack.containers[2]
                .env
                .iter()
                .find(|e| e.0 == "MYSQL_SERVER_ID")
                .unwrap()
                .1
        );
    }
}
