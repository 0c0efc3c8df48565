//! The compose keys (`runtime_opts`) a swarm service carries, and the ones
//! it cannot: issue 15's promise ("applied or refused, never silently
//! dropped") on the swarm.
//!
//! [`SWARM_APPLIED`] is the allow-list: a key not on it (a host-escaping
//! one, one swarm's `ContainerSpec` has no field for, or a key added to
//! `RuntimeOptions` later) is refused by [`unsupported`], so the plan is a
//! `422` before anything is created.
//!
//! ```
//! use specstudio::runtime_opts::RuntimeOptions;
//! use specstudio::swarm::compose_keys::refused;
//! let o = RuntimeOptions { cap_add: vec!["NET_ADMIN".into()], tmpfs: [("/run".into(), String::new())].into(), ..Default::default() };
//! assert_eq!(refused(&o), ["tmpfs"]); // cap_add is applied, tmpfs is not
//! ```

use bollard::models::{TaskSpecContainerSpec, TaskSpecContainerSpecDnsConfig};

use crate::runtime_opts::RuntimeOptions;

/// The keys [`apply`] sets on a swarm `ContainerSpec` (or that hold on a
/// swarm as they are: `mem_limit`, `cpus`, `pids_limit` are the planner's
/// limits, which the mapping applies; `expose` only documents a port, and
/// every port is reachable on the deployment's overlay).
pub const SWARM_APPLIED: &[&str] = &[
    "user",
    "working_dir",
    "hostname",
    "labels",
    "healthcheck",
    "mem_limit",
    "cpus",
    "pids_limit",
    "ulimits",
    "stop_grace_period",
    "stop_signal",
    "read_only",
    "extra_hosts",
    "dns",
    "dns_search",
    "dns_opt",
    "init",
    "tty",
    "stdin_open",
    "cap_add",
    "cap_drop",
    "group_add",
    "sysctls",
    "expose",
];

/// The given keys a swarm service does not apply, in field order.
pub fn refused(o: &RuntimeOptions) -> Vec<&'static str> {
    o.given_keys()
        .into_iter()
        .filter(|k| !SWARM_APPLIED.contains(k))
        .collect()
}

/// Set the applied keys on `c` (its hostname is already the service name;
/// a given `hostname` replaces it; the spec's labels never replace ours).
pub fn apply(c: &mut TaskSpecContainerSpec, o: &RuntimeOptions) {
    let list = |v: &Vec<String>| (!v.is_empty()).then(|| v.clone());
    if let Some(h) = &o.hostname {
        c.hostname = Some(h.clone());
    }
    if !o.labels.is_empty() {
        let labels = c.labels.get_or_insert_with(Default::default);
        for (k, v) in &o.labels {
            labels.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    c.user = o.user.clone();
    c.dir = o.working_dir.clone();
    c.health_check = crate::docker::healthcheck(o);
    c.ulimits = crate::docker::ulimits(o);
    c.stop_grace_period = o.stop_timeout.map(|secs| secs * 1_000_000_000);
    c.stop_signal = o.stop_signal.clone();
    c.read_only = o.read_only;
    // swarm takes hosts-file lines (`IP name`), compose `name:ip`
    c.hosts = list(&o.extra_hosts).map(|hosts| {
        hosts
            .iter()
            .map(|h| match h.split_once(':') {
                Some((name, ip)) => format!("{ip} {name}"),
                None => h.clone(),
            })
            .collect()
    });
    if !(o.dns.is_empty() && o.dns_search.is_empty() && o.dns_opt.is_empty()) {
        c.dns_config = Some(TaskSpecContainerSpecDnsConfig {
            nameservers: list(&o.dns),
            search: list(&o.dns_search),
            options: list(&o.dns_opt),
        });
    }
    c.init = o.init;
    c.tty = o.tty;
    c.open_stdin = o.stdin_open;
    c.capability_add = list(&o.cap_add);
    c.capability_drop = list(&o.cap_drop);
    c.groups = list(&o.group_add);
    c.sysctls = (!o.sysctls.is_empty()).then(|| {
        o.sysctls
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    });
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::json;

    use super::*;
    use crate::swarm::{instance_service, InstanceInput};

    fn read(service: &str, allowed: &[&str]) -> RuntimeOptions {
        let yaml = format!("services:\n  W:\n    image: x\n{service}  M:\n    image: x\n");
        let a = shared::analyze(&yaml);
        let allowed = allowed.iter().map(|s| (*s).to_owned()).collect();
        crate::runtime_opts::read(&a.tree, a.spec.services[0].node, &allowed).unwrap()
    }

    /// Every key of the allow-list, given: all set on the service's
    /// container spec as the Engine API reads them, none refused.
    #[test]
    fn applied_keys_reach_the_container_spec() {
        let o = read(
            "    user: '101:101'\n    working_dir: /app\n    hostname: db\n    labels: {team: blue, org.example.x: y}\n    healthcheck: {test: [CMD, mysqladmin, ping], interval: 5s, retries: 3}\n    mem_limit: 512m\n    cpus: '0.5'\n    pids_limit: 100\n    ulimits: {nofile: {soft: 1024, hard: 2048}}\n    stop_grace_period: 1m30s\n    stop_signal: SIGINT\n    read_only: true\n    extra_hosts: ['db:10.0.0.2', 'v6:fe80::1']\n    dns: [1.1.1.1]\n    dns_search: [example.com]\n    dns_opt: [ndots:2]\n    init: true\n    tty: true\n    stdin_open: true\n    cap_add: [NET_ADMIN]\n    cap_drop: [MKNOD]\n    group_add: [audio]\n    sysctls: {net.core.somaxconn: '1024'}\n    expose: ['8080']\n",
            &["cap_add", "sysctls"],
        );
        let mut given = o.given_keys();
        given.sort_unstable();
        let mut all = SWARM_APPLIED.to_vec();
        all.sort_unstable();
        assert_eq!(given, all, "the test gives every applied key");
        assert!(refused(&o).is_empty());
        let input = InstanceInput {
            name: "ss-d1-w-0".into(),
            labels: BTreeMap::from([("team".to_owned(), "ours".to_owned())]),
            opts: std::sync::Arc::new(o),
            ..Default::default()
        };
        let spec = serde_json::to_value(instance_service(&input, "net")).unwrap();
        let c = &spec["TaskTemplate"]["ContainerSpec"];
        assert_eq!(c["User"], "101:101");
        assert_eq!(c["Dir"], "/app");
        assert_eq!(c["Hostname"], "db");
        // ours win; the spec's own are added
        assert_eq!(c["Labels"]["team"], "ours");
        assert_eq!(c["Labels"]["org.example.x"], "y");
        assert_eq!(spec["Labels"].get("org.example.x"), None);
        assert_eq!(
            c["HealthCheck"],
            json!({"Test": ["CMD", "mysqladmin", "ping"], "Interval": 5_000_000_000i64, "Retries": 3})
        );
        assert_eq!(
            c["Ulimits"],
            json!([{"Name": "nofile", "Soft": 1024, "Hard": 2048}])
        );
        assert_eq!(c["StopGracePeriod"], 90_000_000_000i64);
        assert_eq!(c["StopSignal"], "SIGINT");
        assert_eq!(c["ReadOnly"], true);
        assert_eq!(c["Hosts"], json!(["10.0.0.2 db", "fe80::1 v6"]));
        assert_eq!(
            c["DNSConfig"],
            json!({"Nameservers": ["1.1.1.1"], "Search": ["example.com"], "Options": ["ndots:2"]})
        );
        assert_eq!(
            (&c["Init"], &c["TTY"], &c["OpenStdin"]),
            (&json!(true), &json!(true), &json!(true))
        );
        assert_eq!(c["CapabilityAdd"], json!(["NET_ADMIN"]));
        assert_eq!(c["CapabilityDrop"], json!(["MKNOD"]));
        assert_eq!(c["Groups"], json!(["audio"]));
        assert_eq!(c["Sysctls"], json!({"net.core.somaxconn": "1024"}));
    }

    /// Nothing given: the container spec is the plain one (no empty lists
    /// or zero values the Engine API would read as settings).
    #[test]
    fn no_keys_add_nothing() {
        let spec = serde_json::to_value(instance_service(
            &InstanceInput {
                name: "n".into(),
                ..Default::default()
            },
            "net",
        ))
        .unwrap();
        let c = spec["TaskTemplate"]["ContainerSpec"].as_object().unwrap();
        for k in [
            "User",
            "Dir",
            "HealthCheck",
            "Ulimits",
            "StopGracePeriod",
            "StopSignal",
            "ReadOnly",
            "Hosts",
            "DNSConfig",
            "Init",
            "TTY",
            "OpenStdin",
            "CapabilityAdd",
            "CapabilityDrop",
            "Groups",
            "Sysctls",
        ] {
            assert!(!c.contains_key(k), "{k}");
        }
    }

    /// What a swarm service has no field for, host-escaping keys and the
    /// keys that share another service's container: refused by name.
    #[test]
    fn the_rest_is_refused_by_name() {
        let o = read(
            "    restart: always\n    domainname: example.com\n    shm_size: 64m\n    tmpfs: /run\n    privileged: true\n    cap_add: [NET_ADMIN]\n    volumes_from: [M]\n    gpus: all\n    user: '1'\n",
            &["privileged", "cap_add", "volumes_from", "gpus"],
        );
        assert_eq!(
            refused(&o),
            [
                "restart",
                "domainname",
                "shm_size",
                "tmpfs",
                "privileged",
                "volumes_from",
                "gpus"
            ]
        );
        let o = read("    network_mode: service:M\n", &["network_mode"]);
        assert_eq!(refused(&o), ["network_mode"]);
    }
}
