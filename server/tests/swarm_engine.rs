//! `specstudio serve --engine swarm` on a real 3-node swarm
//! (`scripts/swarm.sh`): the seed with 2 replicas and `enableMultiZone`
//! deployed through the API lands master and replicas on three distinct
//! nodes (zone-a/b/c); rows written through the master endpoint are read
//! through every replica endpoint; a replica endpoint refuses writes; scale
//! 2 → 1 → 2 keeps every row on the replicas; the delete leaves nothing on
//! any node; the host daemon is not touched.
//!
//! Ignored by default (root, the machine-wide swarm); `scripts/test.sh` runs
//! it in the swarm stage:
//!
//! ```text
//! cargo test -p specstudio --test swarm_engine -- --ignored --nocapture
//! ```
//!
//! With `CI=true` a missing prerequisite FAILS it; locally it skips loudly.

mod common;

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use bollard::query_parameters::{
    ListContainersOptions, ListNetworksOptions, ListServicesOptions, ListVolumesOptions,
};
use common::*;
use specstudio::swarm::nodes;

const STATE: &str = "/run/specstudio-swarm.env";

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/swarm.sh")
}

fn ready() -> bool {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    let ok = require(if !root {
        Some("not root (network namespaces and extra dockerds need it)".into())
    } else if Command::new("ip").arg("-V").output().is_err() {
        Some("`ip` is missing (scripts/setup-system.sh --tests installs iproute2)".into())
    } else {
        None
    });
    ok && docker_ready()
}

/// The swarm; dropping it tears it down (also when a check fails).
struct Swarm(HashMap<String, String>);

impl Swarm {
    fn up() -> Swarm {
        let out = Command::new(script()).args(["up", "3"]).output().unwrap();
        assert!(
            out.status.success(),
            "swarm.sh up: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let state = std::fs::read_to_string(STATE).expect("state file");
        Swarm(
            state
                .lines()
                .filter_map(|l| l.split_once('='))
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
        )
    }

    fn get(&self, k: &str) -> String {
        self.0
            .get(k)
            .cloned()
            .unwrap_or_else(|| panic!("{k} not in {STATE}"))
    }
}

impl Drop for Swarm {
    fn drop(&mut self) {
        let ok = Command::new(script()).arg("down").status();
        assert!(ok.is_ok_and(|s| s.success()), "swarm.sh down failed");
    }
}

fn label_filter(label: &str) -> HashMap<String, Vec<String>> {
    HashMap::from([("label".to_owned(), vec![label.to_owned()])])
}

#[test]
#[ignore = "needs root and the machine-wide local swarm: scripts/test.sh runs it (-- --ignored)"]
fn seed_with_two_replicas_spreads_over_three_zones_and_replicates_across_nodes() {
    if !ready() {
        return;
    }
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let host_before = all_labelled("org.specstudio.managed-by=specstudio");
    let started = Instant::now();
    let cluster = Swarm::up();
    eprintln!("swarm up: {:.1} s", started.elapsed().as_secs_f64());
    let dir = std::env::temp_dir().join(format!("specstudio-swarm-e2e-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let manager_host = cluster.get("SWARM_MANAGER");
    let node_flags: Vec<String> = (1..=3)
        .map(|i| {
            format!(
                "swarm-node{i}={}",
                cluster.get(&format!("SWARM_NODE{i}_HOST"))
            )
        })
        .collect();
    let mut args = vec!["--engine", "swarm", "--docker-host", manager_host.as_str()];
    for f in &node_flags {
        args.extend(["--swarm-node", f.as_str()]);
    }
    let mut server = Server::start_with(&dir, &args);

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut t = Transcript::default();
        let t0 = Instant::now();
        let id = deploy(&server, 2, &mut t).await;
        let v = wait_running(&server, &id, 2, &mut t).await;
        eprintln!(
            "POST → running with 2 healthy replicas on the swarm: {:.1} s",
            t0.elapsed().as_secs_f64()
        );
        let label = format!("org.specstudio.deployment={id}");

        // a service per instance, the running tasks on three distinct nodes (zones a/b/c)
        let manager = nodes::connect(&manager_host).await.unwrap();
        let services = manager
            .list_services(Some(ListServicesOptions {
                filters: Some(label_filter(&label)),
                status: None,
            }))
            .await
            .unwrap();
        assert!(services.len() >= 3, "one service per instance (and spares)");
        let listed = nodes::list_nodes(&manager).await.unwrap();
        let mut zones = BTreeSet::new();
        let mut used = BTreeSet::new();
        for s in &services {
            let name = s.spec.as_ref().and_then(|s| s.name.clone()).unwrap();
            // a warm spare is a service scaled to 0: no task
            let Some(task) = nodes::running_task(&manager, &name).await.unwrap() else {
                continue;
            };
            let node = listed.iter().find(|n| n.id == task.node_id).unwrap();
            used.insert(node.hostname.clone());
            zones.insert(node.zone.clone());
        }
        assert_eq!(
            used.len(),
            3,
            "master and replicas on three nodes: {used:?}"
        );
        assert_eq!(zones.len(), 3, "three zones: {zones:?}");

        // through the server's endpoints (relayed to the nodes' host ports)
        let master = endpoints(&v, "Master")[0];
        let t1 = Instant::now();
        write_rows(master, 0, 20).await;
        let replicas = endpoints(&v, "Replica");
        assert_eq!(replicas.len(), 2, "{v}");
        for &port in &replicas {
            wait_rows(port, 20).await;
        }
        eprintln!(
            "20 rows through the master endpoint → on both replicas: {:.2} s",
            t1.elapsed().as_secs_f64()
        );
        let mut c = app_conn(replicas[0]).await;
        let write = c.query("INSERT INTO t VALUES (999, 'no')").await;
        assert!(write.is_err(), "a replica endpoint refuses writes");
        c.close().await;

        // scale 2 → 1 → 2: the remaining and the new replica serve every row
        let t2 = Instant::now();
        for (n, from) in [(1u32, 20u32), (2, 25)] {
            let (s, _, raw) = server
                .call(
                    "PATCH",
                    &format!("/api/deployments/{id}"),
                    Some(serde_json::json!({"params": {"numReadReplicas": n}})),
                    true,
                )
                .await;
            assert_eq!(s, 202, "{raw}");
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
            let v = wait_running(&server, &id, n as usize, &mut t).await;
            assert_eq!(
                endpoints(&v, "Master"),
                vec![master],
                "the master is untouched"
            );
            write_rows(master, from, from + 5).await;
            let replicas = endpoints(&v, "Replica");
            assert_eq!(replicas.len(), n as usize, "{v}");
            for &port in &replicas {
                wait_rows(port, from as usize + 5).await;
            }
        }
        eprintln!(
            "scale 2 → 1 → 2 with rows checked: {:.1} s",
            t2.elapsed().as_secs_f64()
        );

        // delete: nothing left on any node, nor on the host daemon
        delete_and_check_clean(&server, &id, &mut t).await;
        assert!(manager
            .list_services(Some(ListServicesOptions {
                filters: Some(label_filter(&label)),
                status: None,
            }))
            .await
            .unwrap()
            .is_empty());
        assert!(manager
            .list_networks(Some(ListNetworksOptions {
                filters: Some(label_filter(&label)),
            }))
            .await
            .unwrap()
            .is_empty());
        for i in 1..=3 {
            let d = nodes::connect(&cluster.get(&format!("SWARM_NODE{i}_HOST")))
                .await
                .unwrap();
            // the task containers go away asynchronously after the services
            let deadline = Instant::now() + std::time::Duration::from_secs(60);
            loop {
                let containers = d
                    .list_containers(Some(ListContainersOptions {
                        all: true,
                        filters: Some(label_filter(&label)),
                        ..Default::default()
                    }))
                    .await
                    .unwrap();
                let volumes = d
                    .list_volumes(Some(ListVolumesOptions {
                        filters: Some(label_filter(&label)),
                    }))
                    .await
                    .unwrap()
                    .volumes
                    .unwrap_or_default();
                if containers.is_empty() && volumes.is_empty() {
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "node{i} keeps {} containers, {} volumes",
                    containers.len(),
                    volumes.len()
                );
                tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            }
        }
    });
    drop(rt);
    server.kill();
    drop(cluster);
    assert_eq!(
        all_labelled("org.specstudio.managed-by=specstudio"),
        host_before,
        "the host daemon's labelled objects changed"
    );
    let _ = std::fs::remove_dir_all(&dir);
    eprintln!(
        "whole swarm engine test: {:.1} s",
        started.elapsed().as_secs_f64()
    );
}
