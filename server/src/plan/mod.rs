//! From a checked spec and resolved params to a *desired* stack: containers
//! with their env (templates resolved), volumes, ports, limits and labels.
//!
//! Pure: no Docker, no I/O. Everything a client can get wrong is found here,
//! before the provisioner creates anything.
//!
//! ## Instance types
//! Instance-type params map to Docker CPU/memory limits through
//! [`shared::instance_types::INSTANCE_TYPES`] (the same table the deploy form
//! checks against). CPU limits are clamped to the host's CPU count (Docker
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
//!
//! ## Command and entrypoint
//! Compose `entrypoint`/`command` (a list, or a string split like a shell by
//! [`split_words`]) become Docker's `Entrypoint`/`Cmd`, each word's templates
//! resolved like environment values (unresolvable → [`PlanIssue::Unresolved`]).
//!
//! ## Start order
//! [`DesiredStack::start_order`] lists the services that run containers,
//! dependencies first, each with the services it waits for: the edges of the
//! spec graph (`depends_on`, templates, resource links), followed through
//! passive services. The controller starts a service only once those are ready.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use sha2::{Digest, Sha256};
use shared::model::{Command, MountKind, Service, Spec};
use shared::params::ResolvedParams;
use shared::resolve::{self, Unresolved, Values};
use shared::syntax::{Shape, Tree};
use shared::Analysis;

mod hash;
mod images;
mod labels;
mod peers;
mod stack;
#[cfg(test)]
mod tests;
mod volumes;
mod words;

use hash::config_hash;
pub use hash::hex;
pub use images::{glob, is_bitnami_mysql, normalize_image, ImageMap};
pub use labels::*;
pub use stack::*;
use volumes::makes_named_volume;
pub use volumes::volume_name;
pub use words::split_words;

/// Max containers of one service.
pub const MAX_INSTANCES_PER_SERVICE: u32 = 20;
/// Max containers of one deployment.
pub const MAX_CONTAINERS: usize = 50;

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

/// Services in creation order, from the spec's dependency graph
/// ([`shared::Graph`]: `depends_on`, `$<resource>.…` templates and resource
/// links): a service comes after the services it depends on. Services on a
/// cycle (the linter rejects those) keep their spec order at the end.
fn service_order(analysis: &Analysis) -> Vec<usize> {
    let spec = &analysis.spec;
    let n = spec.services.len();
    let deps = direct_dependencies(analysis);
    let mut order = Vec::new();
    let mut done = vec![false; n];
    loop {
        let mut progressed = false;
        for i in 0..n {
            if !done[i] && deps[i].iter().all(|d| done[*d]) {
                done[i] = true;
                order.push(i);
                progressed = true;
            }
        }
        if !progressed {
            break;
        }
    }
    order.extend((0..n).filter(|i| !done[*i]));
    order
}

/// Per service index: the indices of the services it depends on directly
/// (every edge kind of the graph; self-edges left out).
fn direct_dependencies(analysis: &Analysis) -> Vec<BTreeSet<usize>> {
    let spec = &analysis.spec;
    let mut deps: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); spec.services.len()];
    for edge in &analysis.graph.edges {
        if let (Some(from), Some(to)) =
            (spec.service_index(&edge.from), spec.service_index(&edge.to))
        {
            if from != to {
                deps[from].insert(to);
            }
        }
    }
    // a service that shares another's network or volumes needs its container
    for (from, service) in spec.services.iter().enumerate() {
        for peer in peers::written(&analysis.tree, service.node) {
            if let Some(to) = spec.service_index(&peer.name) {
                if from != to {
                    deps[from].insert(to);
                }
            }
        }
    }
    deps
}

/// The services with containers that `index` waits for: its dependencies,
/// followed through services that run nothing (passive ones), so a service
/// linked to a parameter group that links to a database waits for the database.
fn waits_for(deps: &[BTreeSet<usize>], runs: &[bool], index: usize) -> BTreeSet<usize> {
    let mut out = BTreeSet::new();
    let mut seen = BTreeSet::from([index]);
    let mut stack: Vec<usize> = deps[index].iter().copied().collect();
    while let Some(d) = stack.pop() {
        if !seen.insert(d) {
            continue;
        }
        if runs[d] {
            out.insert(d);
        } else {
            stack.extend(deps[d].iter().copied());
        }
    }
    out
}

/// A service's compose `command` or `entrypoint` as the model read it:
/// `None` when absent or null; a string is split into words, a list is taken
/// item by item. A shape compose refuses (the model reads it as absent) is a
/// plan issue, never a silently dropped command.
fn read_args(
    tree: &Tree,
    service: &Service,
    field: &str,
) -> Result<Option<Vec<String>>, PlanIssue> {
    let issue = |message: &str| PlanIssue::Command {
        service: service.name.value.clone(),
        field: field.to_owned(),
        message: message.to_owned(),
    };
    let read = if field == "entrypoint" {
        &service.entrypoint
    } else {
        &service.command
    };
    match read {
        Some(Command::Shell(text)) => split_words(&text.value).map(Some).map_err(|m| issue(&m)),
        Some(Command::Exec { args, .. }) => {
            Ok(Some(args.iter().map(|a| a.value.clone()).collect()))
        }
        None => match tree.get_value(service.node, field).map(|n| tree.shape(n)) {
            None | Some(Shape::Null) => Ok(None),
            Some(Shape::Mapping) => Err(issue("must be a string or a list of strings")),
            Some(_) => Err(issue("must hold strings only")),
        },
    }
}

/// Resolve the templates in every word of `args` (like environment values).
fn resolve_args(
    spec: &Spec,
    service: &Service,
    field: &str,
    args: &Option<Vec<String>>,
    values: &Values,
) -> Result<Option<Vec<String>>, Vec<Unresolved>> {
    let Some(args) = args else {
        return Ok(None);
    };
    let mut out = Vec::with_capacity(args.len());
    let mut problems = Vec::new();
    for arg in args {
        match resolve::resolve_str(spec, &service.name.value, field, arg, values) {
            Ok(v) => out.push(v),
            Err(mut p) => problems.append(&mut p),
        }
    }
    if problems.is_empty() {
        Ok(Some(out))
    } else {
        Err(problems)
    }
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
    match shared::instance_types::lookup(value.trim()).map(|t| (t.vcpus, t.memory_mib)) {
        Some((cpus, mib)) => Ok(Some((value.trim().to_owned(), cpus, mib))),
        None => Err(PlanIssue::UnknownInstanceType {
            service: service.name.value.clone(),
            param,
            value,
            known: shared::instance_types::INSTANCE_TYPES
                .iter()
                .map(|t| t.name)
                .collect(),
        }),
    }
}

/// Build the desired stack. `host_cpus` clamps CPU limits.
pub fn plan(
    analysis: &Analysis,
    params: &ResolvedParams,
    deployment: &str,
    images: &ImageMap,
    host_cpus: f64,
) -> Result<DesiredStack, Vec<PlanIssue>> {
    plan_with(
        analysis,
        params,
        deployment,
        &PlanContext {
            images: Some(images),
            host_cpus,
            ..PlanContext::default()
        },
    )
}

fn serverless_policy(service: &Service) -> Option<ServerlessPolicy> {
    let s = service.capabilities.as_ref()?.serverless.as_ref()?;
    Some(ServerlessPolicy {
        auto_stop: s.enable_auto_stop.as_ref().is_some_and(|b| b.value),
        warm_pool: s.minimum_nodes_in_pool.as_ref().map_or(0, |n| {
            n.value.clamp(0.0, MAX_INSTANCES_PER_SERVICE as f64) as u32
        }),
    })
}

fn autoscale_policy(service: &Service, configured: u32) -> Option<AutoscalePolicy> {
    let a = service.capabilities.as_ref()?.autoscaling.as_ref()?;
    let whole = |v: &Option<shared::model::Spanned<f64>>, default: u32| {
        v.as_ref().map_or(default, |n| {
            n.value.clamp(0.0, MAX_INSTANCES_PER_SERVICE as f64) as u32
        })
    };
    let min_replicas = whole(&a.min_replicas, 1);
    let max_replicas = whole(&a.max_replicas, configured.max(min_replicas)).max(min_replicas);
    Some(AutoscalePolicy {
        min_replicas,
        max_replicas,
        idle_threshold: a.idle_threshold_or_default(),
        idle_minutes: a.idle_minutes_or_default().max(0.0),
        over_threshold: a.over_threshold_or_default(),
        over_minutes: a.over_minutes_or_default().max(0.0),
    })
}

/// Whether the spec turns on an integration: `x-omnistrate-integrations`
/// (`omnistrateLogging`…) or `x-customer-integrations` (`logs`…).
fn integration(analysis: &Analysis, omnistrate: &str, customer: &str) -> bool {
    let spec = &analysis.spec;
    spec.integrations.iter().any(|i| i.name.value == omnistrate)
        || spec
            .root
            .and_then(|r| analysis.tree.get_value(r, "x-customer-integrations"))
            .is_some_and(|n| analysis.tree.get(n, customer).is_some())
}

/// Build the desired stack with the server's context (zones, autoscaled
/// replica counts).
pub fn plan_with(
    analysis: &Analysis,
    params: &ResolvedParams,
    deployment: &str,
    ctx: &PlanContext<'_>,
) -> Result<DesiredStack, Vec<PlanIssue>> {
    let no_images = ImageMap::default();
    let images = ctx.images.unwrap_or(&no_images);
    let host_cpus = if ctx.host_cpus > 0.0 {
        ctx.host_cpus
    } else {
        1.0
    };
    let spec = &analysis.spec;
    let mut issues = Vec::new();
    let mut values = Values::from_params(params);
    struct Pre {
        index: usize,
        count: u32,
        spares: u32,
        limits: Option<(String, f64, u64)>,
        alias: String,
        ports: Vec<u16>,
    }
    let mut pre = Vec::new();
    let mut policies: Vec<ServicePolicy> = Vec::new();
    let mut used_aliases = BTreeSet::new();
    for index in service_order(analysis) {
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
        let configured = replica_count(service, params).unwrap_or_else(|e| {
            issues.push(e);
            0
        });
        let autoscaling = autoscale_policy(service, configured);
        // the autoscaler's count, kept within the policy's bounds
        let count = match (
            ctx.replica_overrides
                .and_then(|o| o.get(&service.name.value)),
            &autoscaling,
        ) {
            (Some(n), Some(a)) => (*n).clamp(a.min_replicas, a.max_replicas),
            _ => configured,
        };
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
        let capabilities = service.capabilities.as_ref();
        policies.push(ServicePolicy {
            resource: name.clone(),
            alias: alias.clone(),
            port: ports.first().copied(),
            replicas: count,
            spares: 0,
            endpoint_per_replica: capabilities
                .and_then(|c| c.enable_endpoint_per_replica.as_ref())
                .is_some_and(|e| e.value),
            serverless: serverless_policy(service),
            autoscaling,
            multi_zone: capabilities
                .and_then(|c| c.enable_multi_zone.as_ref())
                .is_some_and(|e| e.value),
            volume_mounts: service
                .volumes
                .iter()
                .enumerate()
                .filter(|(_, m)| makes_named_volume(m))
                .map(|(n, _)| n)
                .collect(),
        });
        let spares = match (
            &policies.last().and_then(|p| p.autoscaling.clone()),
            serverless_policy(service),
        ) {
            (Some(a), Some(sp)) if count > 0 => {
                sp.warm_pool.min(a.max_replicas.saturating_sub(count))
            }
            _ => 0,
        };
        if let Some(last) = policies.last_mut() {
            last.spares = spares;
        }
        pre.push(Pre {
            index,
            count,
            spares,
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
        if let Err(message) = shared::image_ref::check(&image) {
            issues.push(PlanIssue::InvalidImage {
                service: name.clone(),
                image: image.clone(),
                message,
            });
        }
        let no_keys = BTreeSet::new();
        let opts = match crate::runtime_opts::read(
            &analysis.tree,
            service.node,
            ctx.allowed_host_keys.unwrap_or(&no_keys),
        ) {
            Ok(o) => std::sync::Arc::new(o),
            Err(found) => {
                issues.extend(found.into_iter().map(|i| PlanIssue::ComposeKey {
                    service: name.clone(),
                    key: i.key,
                    message: i.message,
                    path: i.path,
                }));
                Default::default()
            }
        };
        let shared_with = peers::resolve(
            &analysis.tree,
            spec,
            service,
            &opts,
            &peers::Planned {
                deployment,
                order: &pre
                    .iter()
                    .map(|q| (q.index, q.alias.as_str(), q.count))
                    .collect::<Vec<_>>(),
                containers: &containers,
            },
        )
        .unwrap_or_else(|mut found| {
            issues.append(&mut found);
            Default::default()
        });
        let bitnami = is_bitnami_mysql(&source_image, &image);
        let mut args = Vec::new();
        for field in ["entrypoint", "command"] {
            match read_args(&analysis.tree, service, field) {
                Ok(a) => args.push(a),
                Err(e) => {
                    issues.push(e);
                    args.push(None);
                }
            }
        }
        let (entrypoint_raw, command_raw) = (args[0].take(), args[1].take());
        // the image's own entrypoint is what speaks the bitnami contract; an
        // overridden one may run anything, so it is probed by TCP only
        let mysql_probe = bitnami && entrypoint_raw.is_none();
        for replica in 0..p.count + p.spares {
            let cname = format!("ss-{deployment}-{}-{replica}", p.alias);
            let mut v = values.clone();
            v.set_sys(name, "compute.node.index", &replica.to_string());
            v.set_sys(name, "compute.node.name", &cname);
            v.set_sys(name, "network.node.internalEndpoint", &cname);
            let resolved = (
                resolve::resolve_environment(spec, service, &v),
                resolve_args(spec, service, "entrypoint", &entrypoint_raw, &v),
                resolve_args(spec, service, "command", &command_raw, &v),
            );
            let (mut env, entrypoint, command) = match resolved {
                (Ok(env), Ok(entrypoint), Ok(command)) => (env, entrypoint, command),
                (env, entrypoint, command) => {
                    if replica == 0 {
                        for us in [env.err(), entrypoint.err(), command.err()]
                            .into_iter()
                            .flatten()
                        {
                            issues.extend(us.into_iter().map(PlanIssue::Unresolved));
                        }
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
                if !makes_named_volume(m) {
                    if replica == 0 && m.kind == MountKind::Bind {
                        issues.push(PlanIssue::HostPath {
                            service: name.clone(),
                            source: m
                                .source
                                .as_ref()
                                .map(|s| s.value.clone())
                                .unwrap_or_default(),
                        });
                    }
                    continue;
                }
                let mut target = target.value.clone();
                if bitnami && target.trim_end_matches('/') == "/var/lib/mysql" {
                    target = "/bitnami/mysql/data".into();
                }
                volumes.push(DesiredVolume {
                    name: volume_name(deployment, &p.alias, replica, n),
                    target,
                });
            }
            let probe = if p.ports.is_empty() {
                Probe::None
            } else if mysql_probe {
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
            // an instance type wins; then `cpus`/`mem_limit`; then defaults
            let (nano_cpus, memory) = match &p.limits {
                Some((_, cpus, mib)) => (
                    Some((cpus.min(host_cpus) * 1e9) as i64),
                    Some((*mib as i64) * 1024 * 1024),
                ),
                None => (
                    Some(
                        (opts
                            .cpus
                            .unwrap_or(crate::runtime_opts::DEFAULT_CPUS)
                            .min(host_cpus)
                            * 1e9) as i64,
                    ),
                    Some(opts.memory.unwrap_or(crate::runtime_opts::DEFAULT_MEMORY)),
                ),
            };
            let pids_limit = opts.pids_limit.unwrap_or(crate::runtime_opts::DEFAULT_PIDS);
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
                probe,
                entrypoint,
                command,
                zone: policies
                    .iter()
                    .find(|s| &s.resource == name)
                    .filter(|s| s.multi_zone && !ctx.zones.is_empty())
                    .map(|_| ctx.zones[replica as usize % ctx.zones.len()].clone()),
                spare: replica >= p.count,
                opts: opts.clone(),
                pids_limit,
                network_of: shared_with.network_of.clone(),
                shared_volumes: shared_with.volumes.clone(),
                config_hash: String::new(),
            };
            c.config_hash = config_hash(&c);
            containers.push(c);
        }
    }
    peers::chain_hashes(&mut containers);
    let total: usize = pre.iter().map(|p| (p.count + p.spares) as usize).sum();
    if total > MAX_CONTAINERS {
        issues.push(PlanIssue::TooManyContainers {
            count: total,
            max: MAX_CONTAINERS,
        });
    }
    // start order: only services that run containers are waited for
    let deps = direct_dependencies(analysis);
    let mut runs = vec![false; spec.services.len()];
    for p in &pre {
        runs[p.index] = p.count > 0;
    }
    let start_order = pre
        .iter()
        .map(|p| StartStep {
            resource: spec.services[p.index].name.value.clone(),
            after: waits_for(&deps, &runs, p.index)
                .into_iter()
                .map(|d| spec.services[d].name.value.clone())
                .collect(),
            after_ready: spec.services[p.index]
                .depends_on
                .iter()
                .filter(|d| {
                    d.condition
                        .as_ref()
                        .is_some_and(|c| c.value == "service_healthy")
                        && spec
                            .service_index(&d.service.value)
                            .is_some_and(|i| runs[i])
                })
                .map(|d| d.service.value.clone())
                .collect(),
        })
        .collect();
    if issues.is_empty() {
        Ok(DesiredStack {
            deployment: deployment.to_owned(),
            network: format!("ss-{deployment}"),
            containers,
            start_order,
            services: policies,
            logging: integration(analysis, "omnistrateLogging", "logs"),
            metrics: integration(analysis, "omnistrateMetrics", "metrics"),
        })
    } else {
        Err(issues)
    }
}
