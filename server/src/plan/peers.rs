//! `network_mode: service:NAME` (or `container:NAME`) and `volumes_from`: a
//! service takes another service's network namespace or volumes. Only the
//! services of the same spec qualify, resolved to this deployment's own
//! containers — never the host's, another deployment's or an arbitrary
//! container's. Both keys are host-escaping (the operator allows them with
//! `--allow-host-key`); `runtime_opts` reads them, this module resolves them.

#[allow(unused_imports)]
use super::*;
use crate::runtime_opts::{Peer, RuntimeOptions};
use shared::syntax::NodeId;

/// The peers a service names in its text, for the creation and start order
/// (the checks are in [`resolve`]).
pub(super) fn written(tree: &Tree, service: NodeId) -> Vec<Peer> {
    let mut out = Vec::new();
    if tree.shape(service) != Shape::Mapping {
        return out;
    }
    if let Some(p) = tree
        .get_value(service, "network_mode")
        .and_then(|n| tree.str(n))
        .and_then(|t| Peer::parse(t, false, false))
    {
        out.push(p);
    }
    if let Some(n) = tree.get_value(service, "volumes_from") {
        if tree.shape(n) == Shape::Sequence {
            out.extend(
                tree.items(n)
                    .iter()
                    .filter_map(|i| tree.str(*i))
                    .filter_map(|t| Peer::parse(t, true, true)),
            );
        }
    }
    out
}

/// What the planner knows when it reaches a service.
pub(super) struct Planned<'a> {
    pub deployment: &'a str,
    /// `(service index, alias, replicas)` of the services with containers,
    /// in creation order.
    pub order: &'a [(usize, &'a str, u32)],
    /// The containers planned so far (those of earlier services).
    pub containers: &'a [DesiredContainer],
}

/// A service's network namespace and volumes from its peers.
#[derive(Default)]
pub(super) struct FromPeers {
    pub network_of: Option<String>,
    pub volumes: Vec<SharedVolume>,
}

/// Resolve `network_mode` and `volumes_from` of `service` to containers of
/// this deployment; anything else is a plan issue naming the key.
pub(super) fn resolve(
    tree: &Tree,
    spec: &Spec,
    service: &Service,
    opts: &RuntimeOptions,
    planned: &Planned<'_>,
) -> Result<FromPeers, Vec<PlanIssue>> {
    let me = &service.name.value;
    let mut issues = Vec::new();
    let mut out = FromPeers::default();
    let issue = |key: &str, message: String| PlanIssue::ComposeKey {
        service: me.clone(),
        key: key.to_owned(),
        message,
        path: crate::runtime_opts::key_path(tree, service.node, key),
    };
    let my_pos = planned
        .order
        .iter()
        .position(|(i, ..)| spec.services[*i].name.value == *me);
    // the planned position of a peer, or why it cannot be shared
    let target = |what: &str, peer: &Peer| -> Result<usize, String> {
        let written = format!(
            "`{}{}`",
            if peer.container { "container:" } else { "" },
            peer.name
        );
        let Some(index) = spec.service_index(&peer.name) else {
            return Err(format!(
                "{written} is not a service of this spec: only the deployment's own services can share their {what}"
            ));
        };
        if spec.services[index].name.value == *me {
            return Err(format!("{written}: a service cannot take its own {what}"));
        }
        let Some(pos) = planned.order.iter().position(|(i, ..)| *i == index) else {
            return Err(format!("{written} runs no container to share its {what}"));
        };
        if planned.order[pos].2 == 0 {
            return Err(format!(
                "{written} runs no container (0 replicas) to share its {what}"
            ));
        }
        if my_pos.is_some_and(|m| pos > m) {
            return Err(format!(
                "{written} is started after this service (services that take each other's {what} form a cycle)"
            ));
        }
        Ok(pos)
    };
    let first_container = |pos: usize| {
        let resource = &spec.services[planned.order[pos].0].name.value;
        planned
            .containers
            .iter()
            .find(|c| &c.resource == resource && c.replica == 0)
    };
    if let Some(peer) = &opts.network_mode {
        match target("network", peer) {
            Ok(pos) => match first_container(pos) {
                Some(c) if c.network_of.is_some() => issues.push(issue(
                    "network_mode",
                    format!(
                        "`{}` shares another service's network itself: name that service",
                        peer.name
                    ),
                )),
                _ => {
                    out.network_of = Some(format!(
                        "ss-{}-{}-0",
                        planned.deployment, planned.order[pos].1
                    ))
                }
            },
            Err(m) => issues.push(issue("network_mode", m)),
        }
    }
    let own_targets: BTreeSet<&str> = service
        .volumes
        .iter()
        .filter_map(|m| m.target.as_ref())
        .map(|t| t.value.trim_end_matches('/'))
        .collect();
    for peer in &opts.volumes_from {
        let pos = match target("volumes", peer) {
            Ok(pos) => pos,
            Err(m) => {
                issues.push(issue("volumes_from", m));
                continue;
            }
        };
        // its plan failed: that issue is reported already
        let Some(c) = first_container(pos) else {
            continue;
        };
        let theirs = c.volumes.iter().map(|v| SharedVolume {
            name: v.name.clone(),
            target: v.target.clone(),
            read_only: false,
        });
        for mut v in theirs.chain(c.shared_volumes.iter().cloned()) {
            v.read_only |= peer.read_only;
            let clash = own_targets.contains(v.target.trim_end_matches('/'))
                || out.volumes.iter().any(|o| o.target == v.target);
            if clash {
                issues.push(issue(
                    "volumes_from",
                    format!(
                        "`{}` mounts a volume at `{}`, where this service mounts one already",
                        peer.name, v.target
                    ),
                ));
            } else {
                out.volumes.push(v);
            }
        }
    }
    if issues.is_empty() {
        Ok(out)
    } else {
        Err(issues)
    }
}

/// A container in another's network namespace must be re-created with it
/// (Docker joined the old namespace): its config hash takes the other's in.
pub(super) fn chain_hashes(containers: &mut [DesiredContainer]) {
    let hashes: BTreeMap<String, String> = containers
        .iter()
        .map(|c| (c.name.clone(), c.config_hash.clone()))
        .collect();
    for c in containers.iter_mut() {
        if let Some(theirs) = c.network_of.as_ref().and_then(|n| hashes.get(n)) {
            let mut h = Sha256::new();
            h.update(c.config_hash.as_bytes());
            h.update(theirs.as_bytes());
            c.config_hash = hex(&h.finalize()[..8]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: &str = r#"services:
  Sidecar:
    image: busybox
    command: ["sleep", "600"]
    network_mode: service:Master
    volumes_from: ["Master:ro"]
  Master:
    image: busybox
    command: ["sleep", "600"]
    ports: ["8080"]
    volumes:
      - ./data:/data
    environment:
      MODE: one
"#;

    fn plan_of(text: &str, allowed: &[&str]) -> Result<DesiredStack, Vec<PlanIssue>> {
        let a = shared::analyze(text);
        let none = shared::params::ResolvedParams { params: Vec::new() };
        let allowed: BTreeSet<String> = allowed.iter().map(|k| (*k).to_owned()).collect();
        plan_with(
            &a,
            &none,
            "abc",
            &PlanContext {
                host_cpus: 2.0,
                allowed_host_keys: Some(&allowed),
                ..PlanContext::default()
            },
        )
    }

    fn messages(text: &str, allowed: &[&str]) -> String {
        let issues = plan_of(text, allowed).expect_err("refused");
        issues
            .iter()
            .map(PlanIssue::message)
            .collect::<Vec<_>>()
            .join("\n")
    }

    const BOTH: &[&str] = &["network_mode", "volumes_from"];

    #[test]
    fn a_sidecar_joins_its_masters_network_and_mounts_its_volume() {
        let stack = plan_of(SPEC, BOTH).unwrap();
        let names: Vec<&str> = stack.containers.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names,
            ["ss-abc-master-0", "ss-abc-sidecar-0"],
            "master first"
        );
        let side = &stack.containers[1];
        assert_eq!(side.network_of.as_deref(), Some("ss-abc-master-0"));
        assert_eq!(
            side.shared_volumes,
            [SharedVolume {
                name: "ss-abc-master-0-0".into(),
                target: "/data".into(),
                read_only: true,
            }]
        );
        assert!(side.volumes.is_empty(), "it creates no volume of its own");
        assert_eq!(side.probe, Probe::None, "no port of its own");
        assert_eq!(stack.step("Sidecar").unwrap().after, ["Master"]);
        // a new master container means a new sidecar (it joined the old namespace)
        let changed = plan_of(&SPEC.replace("MODE: one", "MODE: two"), BOTH).unwrap();
        assert_ne!(changed.containers[1].config_hash, side.config_hash);
        assert_eq!(
            plan_of(SPEC, BOTH).unwrap().containers[1].config_hash,
            side.config_hash,
            "stable"
        );
        // `container:NAME` names a service of the spec too; `:rw` is writable
        let c = SPEC
            .replace("service:Master", "container:Master")
            .replace("Master:ro", "service:Master:rw");
        let stack = plan_of(&c, BOTH).unwrap();
        assert_eq!(
            stack.containers[1].network_of.as_deref(),
            Some("ss-abc-master-0")
        );
        assert!(!stack.containers[1].shared_volumes[0].read_only);
    }

    #[test]
    fn without_the_flag_or_outside_the_deployment_they_stay_refused() {
        let m = messages(SPEC, &[]);
        assert!(
            m.contains("Sidecar: `network_mode` refused (host-escaping)")
                && m.contains("`--allow-host-key network_mode`")
                && m.contains("`--allow-host-key volumes_from`"),
            "{m}"
        );
        assert!(
            messages(&SPEC.replace("service:Master", "host"), BOTH)
                .contains("(at `/services/Sidecar/network_mode`)"),
            "located"
        );
        for (from, to, needle) in [
            (
                "service:Master",
                "host",
                "`host`: only `service:NAME` or `container:NAME`",
            ),
            (
                "service:Master",
                "container:some-other",
                "`container:some-other` is not a service of this spec",
            ),
            (
                "service:Master",
                "service:Sidecar",
                "cannot take its own network",
            ),
            ("service:Master", "none", "`none`: only"),
            (
                "Master:ro",
                "Ghost",
                "`Ghost` is not a service of this spec",
            ),
            ("Master:ro", "Master:rx", "`Master:rx` is not `NAME`"),
            (
                "    volumes_from",
                "    ports: ['9000']\n    volumes_from",
                "Sidecar: `ports` cannot be set beside `network_mode`",
            ),
        ] {
            let m = messages(&SPEC.replace(from, to), BOTH);
            assert!(m.contains(needle), "{to}: {m}");
        }
        // a service with no container to share
        let idle = SPEC.replace(
            "    environment:",
            "    x-omnistrate-compute:\n      replicaCount: 0\n    environment:",
        );
        assert!(messages(&idle, BOTH).contains("runs no container (0 replicas)"));
        // a chain: name the service that owns the network
        let chain =
            format!("{SPEC}  Third:\n    image: busybox\n    network_mode: service:Sidecar\n");
        assert!(messages(&chain, BOTH).contains("shares another service's network itself"));
        // the same mount point twice
        let clash = SPEC.replace(
            "    volumes_from:",
            "    volumes:\n      - ./own:/data\n    volumes_from:",
        );
        assert!(messages(&clash, BOTH).contains("mounts a volume at `/data`"));
    }

    #[test]
    fn gpus_become_device_requests() {
        let text = "services:\n  W:\n    image: busybox\n    gpus: all\n";
        let m = messages(text, &[]);
        assert!(m.contains("`--allow-host-key gpus`"), "{m}");
        let stack = plan_of(text, &["gpus"]).unwrap();
        assert_eq!(
            stack.containers[0].opts.gpus,
            [crate::runtime_opts::GpuRequest {
                driver: None,
                count: -1,
                capabilities: vec!["gpu".into()],
                ..Default::default()
            }]
        );
        let listed = "services:\n  W:\n    image: busybox\n    gpus:\n      - driver: nvidia\n        device_ids: ['0', '3']\n        capabilities: [gpu, compute]\n      - count: 2\n";
        let g = &plan_of(listed, &["gpus"]).unwrap().containers[0].opts.gpus;
        assert_eq!(g.len(), 2);
        assert_eq!(
            (
                g[0].driver.as_deref(),
                g[0].device_ids.as_slice(),
                g[0].capabilities.as_slice()
            ),
            (
                Some("nvidia"),
                &["0".to_owned(), "3".to_owned()][..],
                &["gpu".to_owned(), "compute".to_owned()][..]
            )
        );
        assert_eq!(
            (g[1].count, g[1].capabilities.as_slice()),
            (2, &["gpu".to_owned()][..])
        );
        for (bad, needle) in [
            ("gpus: some", "is `all` or a list"),
            ("gpus:\n      - count: 0", "`count: 0` is not `all`"),
            (
                "gpus:\n      - count: 1\n        device_ids: ['0']",
                "cannot both be given",
            ),
        ] {
            let m = messages(&text.replace("gpus: all", bad), &["gpus"]);
            assert!(m.contains(needle), "{bad}: {m}");
        }
    }
}
