//! A real 3-node Docker Swarm on this machine (`scripts/swarm.sh`), and one
//! mapped MySQL service on it.
//!
//! Brings the swarm up, checks three ready nodes labelled zone-a/b/c with the
//! image on each (and the per-node image check's 422 naming a node), creates
//! a MySQL master mapped by `specstudio::swarm` in zone-b and a replica in
//! zone-c, sees their tasks on those nodes, writes on the master at its
//! host-mode port on node2's namespace address and reads the row on the
//! replica at node3's, pins the master, puts it to sleep (0 tasks, volume
//! kept on its node) and wakes it (same node, same rows, same server id,
//! replication resumes), removes both (nothing left on any node), spreads four light instances over the three
//! zones, kills the daemon of the node under a pinned instance and sees the
//! node reported down with that instance lost (it does not move), tears the
//! swarm down and checks that the host daemon's containers, networks,
//! volumes, images and swarm state did not change.
//!
//! Ignored by default: it needs root and the machine-wide swarm (fixed names
//! and addresses, one at a time), so it is not part of every `cargo test`.
//! `scripts/test.sh` runs it in its own stage:
//!
//! ```text
//! cargo test -p specstudio --test swarm_cluster -- --ignored --nocapture
//! ```
//!
//! With `CI=true` a missing prerequisite FAILS it; locally it skips loudly.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use bollard::query_parameters::{
    ListContainersOptions, ListNetworksOptions, ListServicesOptions, ListVolumesOptions,
};
use bollard::Docker;
use specstudio::mysql::Conn;
use specstudio::swarm::{
    self, nodes, InstanceInput, LostInstance, Placement, PortInput, SwarmError, VolumeInput,
};

const IMAGE: &str = "specstudio/mysql:local";
const STATE: &str = "/run/specstudio-swarm.env";

fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/swarm.sh")
}

fn cli(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program).args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// `true` when the test can run; panics in CI when it cannot.
fn ready() -> bool {
    // SAFETY: geteuid has no preconditions.
    let problem = if unsafe { libc::geteuid() } != 0 {
        Some("not root (network namespaces and extra dockerds need it)".to_owned())
    } else if cli("ip", &["-V"]).is_none() {
        Some("`ip` is missing (scripts/setup-system.sh --tests installs iproute2)".to_owned())
    } else if cli("docker", &["info", "--format", "{{.ServerVersion}}"]).is_none() {
        Some("the host Docker daemon is not reachable".to_owned())
    } else if cli("docker", &["image", "inspect", IMAGE]).is_none() {
        Some(format!(
            "image {IMAGE} is missing (bash images/mysql/build.sh)"
        ))
    } else {
        None
    };
    match problem {
        None => true,
        Some(p) if ci() => panic!("CI=true and {p}: the swarm test cannot run"),
        Some(p) => {
            eprintln!("\n!!! SKIPPING the swarm cluster test: {p}\n");
            false
        }
    }
}

/// The host daemon's objects that are not specstudio test objects (other
/// tests on this machine create and remove labelled ones meanwhile).
#[derive(Debug, PartialEq, Eq)]
struct HostSnapshot {
    containers: BTreeSet<String>,
    networks: BTreeSet<String>,
    volumes: BTreeSet<String>,
    images: BTreeSet<String>,
    swarm_state: String,
}

impl HostSnapshot {
    fn take() -> HostSnapshot {
        let unlabelled = |args: &[&str]| -> BTreeSet<String> {
            cli("docker", args)
                .expect("docker list")
                .lines()
                .filter_map(|l| l.strip_suffix('\t').map(str::to_owned))
                .collect()
        };
        let fmt = |id: &str| format!("{{{{{id}}}}}\t{{{{.Label \"org.specstudio.managed-by\"}}}}");
        HostSnapshot {
            containers: unlabelled(&["ps", "-a", "--no-trunc", "--format", &fmt(".ID")]),
            networks: unlabelled(&["network", "ls", "--no-trunc", "--format", &fmt(".ID")]),
            volumes: unlabelled(&["volume", "ls", "--format", &fmt(".Name")]),
            images: cli("docker", &["images", "-aq", "--no-trunc"])
                .expect("docker images")
                .lines()
                .map(str::to_owned)
                .collect(),
            swarm_state: cli("docker", &["info", "--format", "{{.Swarm.LocalNodeState}}"])
                .expect("docker info"),
        }
    }
}

/// The running swarm; dropping it tears it down (also when a check fails).
struct Swarm {
    state: HashMap<String, String>,
    up: bool,
}

impl Swarm {
    fn up(nodes: u32) -> Swarm {
        let out = Command::new(script())
            .args(["up", &nodes.to_string()])
            .output()
            .expect("run scripts/swarm.sh");
        assert!(
            out.status.success(),
            "scripts/swarm.sh up failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let state = std::fs::read_to_string(STATE)
            .expect("state file")
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        Swarm { state, up: true }
    }

    fn get(&self, key: &str) -> &str {
        self.state
            .get(key)
            .unwrap_or_else(|| panic!("{key} missing from {STATE}: {:?}", self.state))
    }

    fn down(&mut self) {
        self.up = false;
        let out = Command::new(script())
            .arg("down")
            .output()
            .expect("run scripts/swarm.sh down");
        assert!(
            out.status.success(),
            "scripts/swarm.sh down failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for Swarm {
    fn drop(&mut self) {
        if self.up {
            let _ = Command::new(script()).arg("down").status();
        }
    }
}

#[test]
#[ignore = "needs root and the machine-wide local swarm: scripts/test.sh runs it (-- --ignored)"]
fn three_node_swarm_runs_a_mapped_mysql_pinned_to_a_zone_and_leaves_the_host_untouched() {
    if !ready() {
        return;
    }
    let before = HostSnapshot::take();
    let started = Instant::now();
    let t = Instant::now();
    let mut cluster = Swarm::up(3);
    eprintln!(
        "swarm up (3 nodes, image loaded): {:.1} s",
        t.elapsed().as_secs_f64()
    );

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let manager = nodes::connect(cluster.get("SWARM_MANAGER")).await.unwrap();
        let per_node = check_nodes(&cluster, &manager).await;
        let t = Instant::now();
        mysql_pinned_to_zone_b(&cluster, &manager, &per_node).await;
        eprintln!(
            "mapped MySQL master (zone-b) + replica (zone-c): create → replicated row → master asleep → awake → removed: {:.1} s",
            t.elapsed().as_secs_f64()
        );
        let t = Instant::now();
        four_instances_spread_over_three_zones(&manager, &per_node).await;
        eprintln!(
            "zone spread of 4 instances: {:.1} s",
            t.elapsed().as_secs_f64()
        );
        let noticed = lost_node_is_noticed(&cluster, &manager).await;
        eprintln!(
            "node3's dockerd killed → manager reports it down: {:.1} s",
            noticed.as_secs_f64()
        );
    });
    drop(rt);

    let t = Instant::now();
    cluster.down();
    eprintln!("swarm down: {:.1} s", t.elapsed().as_secs_f64());
    assert_eq!(HostSnapshot::take(), before, "the host daemon changed");
    assert!(
        cli("ip", &["link", "show", "swarm-host"]).is_none(),
        "host link left"
    );
    let netns = std::fs::read_dir("/run/netns")
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name())
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    assert!(
        !netns
            .iter()
            .any(|n| n.to_string_lossy().starts_with("swarm-")),
        "namespaces left: {netns:?}"
    );
    assert!(!PathBuf::from(STATE).exists(), "state file left");
    eprintln!("whole swarm test: {:.1} s", started.elapsed().as_secs_f64());
}

/// Three ready nodes, one manager, zones a/b/c, the image on each; the image
/// check names the node that lacks one. Returns (hostname, daemon) per node.
async fn check_nodes(cluster: &Swarm, manager: &Docker) -> Vec<(String, Docker)> {
    let listed = nodes::list_nodes(manager).await.unwrap();
    let summary: Vec<(&str, bool, Option<&str>)> = listed
        .iter()
        .map(|n| (n.hostname.as_str(), n.ready, n.zone.as_deref()))
        .collect();
    assert_eq!(
        summary,
        [
            ("swarm-node1", true, Some("zone-a")),
            ("swarm-node2", true, Some("zone-b")),
            ("swarm-node3", true, Some("zone-c")),
        ]
    );
    assert_eq!(listed.iter().filter(|n| n.manager).count(), 1);
    assert_eq!(cluster.get("SWARM_NODES"), "3");
    assert_eq!(cluster.get("SWARM_MANAGER_ADDR"), "10.99.0.11");
    let mut per_node = Vec::new();
    for (i, n) in listed.iter().enumerate() {
        let i = i + 1;
        assert_eq!(cluster.get(&format!("SWARM_NODE{i}_ID")), n.id);
        assert_eq!(n.addr, cluster.get(&format!("SWARM_NODE{i}_ADDR")));
        let docker = nodes::connect(cluster.get(&format!("SWARM_NODE{i}_HOST")))
            .await
            .unwrap();
        per_node.push((n.hostname.clone(), docker));
    }
    nodes::check_image(&per_node, IMAGE).await.unwrap();
    // remove the image from node3 only: the check names that node, as a 422
    let node3 = &per_node[2].1;
    node3
        .tag_image(
            IMAGE,
            Some(bollard::query_parameters::TagImageOptions {
                repo: Some("specstudio/only-on-node3".into()),
                tag: Some("t".into()),
            }),
        )
        .await
        .unwrap();
    let err = nodes::check_image(&per_node, "specstudio/only-on-node3:t")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, SwarmError::ImageMissing { node, .. } if node == "swarm-node1"),
        "{err}"
    );
    node3
        .remove_image(
            "specstudio/only-on-node3:t",
            None::<bollard::query_parameters::RemoveImageOptions>,
            None,
        )
        .await
        .unwrap();
    let err = nodes::check_image(&per_node[2..], "specstudio/only-on-node3:t")
        .await
        .unwrap_err();
    assert_eq!(err.status().as_u16(), 422);
    assert!(err.to_string().contains("`swarm-node3`"), "{err}");
    per_node
}

/// A test deployment's name, labels, label filter and overlay network
/// (created on the manager).
struct TestDeployment {
    deployment: String,
    labels: BTreeMap<String, String>,
    label_filter: String,
    network: String,
}

async fn test_deployment(manager: &Docker, prefix: &str) -> TestDeployment {
    let deployment = format!("{prefix}-{}", std::process::id());
    let labels = BTreeMap::from([
        (
            "org.specstudio.managed-by".to_owned(),
            "specstudio".to_owned(),
        ),
        ("org.specstudio.deployment".to_owned(), deployment.clone()),
    ]);
    let network = format!("ss-{deployment}");
    manager
        .create_network(swarm::overlay_network(&network, &labels))
        .await
        .unwrap();
    TestDeployment {
        label_filter: format!("org.specstudio.deployment={deployment}"),
        deployment,
        labels,
        network,
    }
}

async fn mysql_pinned_to_zone_b(cluster: &Swarm, manager: &Docker, per_node: &[(String, Docker)]) {
    let TestDeployment {
        deployment,
        labels,
        label_filter,
        network,
    } = test_deployment(manager, "swarm-test").await;
    let password = format!("Root-{:x}", std::process::id() ^ 0x5a5a_1234);
    let repl_password = format!("Repl-{:x}", std::process::id() ^ 0x1234_5a5a);
    let name = format!("ss-{deployment}-master-0");
    let instance = InstanceInput {
        name: name.clone(),
        image: IMAGE.into(),
        env: vec![
            ("MYSQL_ROOT_PASSWORD".into(), password.clone()),
            ("MYSQL_REPLICATION_MODE".into(), "master".into()),
            ("MYSQL_REPLICATION_USER".into(), "repl".into()),
            ("MYSQL_REPLICATION_PASSWORD".into(), repl_password.clone()),
        ],
        server_id: Some(7),
        volumes: vec![VolumeInput {
            name: format!("{name}-data"),
            target: "/bitnami/mysql".into(),
        }],
        ports: vec![PortInput {
            target: 3306,
            published: None,
        }],
        aliases: vec!["master".into()],
        nano_cpus: Some(1_000_000_000),
        memory: Some(512 << 20),
        pids_limit: Some(512),
        labels: labels.clone(),
        placement: Placement::Zone("zone-b".into()),
        running: true,
        ..Default::default()
    };
    manager
        .create_service(swarm::instance_service(&instance, &network), None)
        .await
        .unwrap();
    // a replica in zone-c, finding its master by the overlay alias
    let replica_name = format!("ss-{deployment}-replica-0");
    let replica = InstanceInput {
        name: replica_name.clone(),
        env: vec![
            ("MYSQL_REPLICATION_MODE".into(), "slave".into()),
            ("MYSQL_MASTER_HOST".into(), "master".into()),
            ("MYSQL_MASTER_PORT_NUMBER".into(), "3306".into()),
            ("MYSQL_MASTER_ROOT_PASSWORD".into(), password.clone()),
            ("MYSQL_REPLICATION_USER".into(), "repl".into()),
            ("MYSQL_REPLICATION_PASSWORD".into(), repl_password.clone()),
        ],
        server_id: Some(8),
        volumes: vec![VolumeInput {
            name: format!("{replica_name}-data"),
            target: "/bitnami/mysql".into(),
        }],
        aliases: vec!["replica".into()],
        placement: Placement::Zone("zone-c".into()),
        ..instance.clone()
    };
    manager
        .create_service(swarm::instance_service(&replica, &network), None)
        .await
        .unwrap();

    // its one task runs on the zone-b node, with a node port for 3306
    let task = wait_task(manager, &name).await;
    let node2_id = cluster.get("SWARM_NODE2_ID");
    assert_eq!(task.node_id, node2_id, "not on the zone-b node");
    let addr = cluster.get("SWARM_NODE2_ADDR");

    // reachable at the node's namespace address on that port, with our identity
    let mut conn = sql(addr, &task, &password).await;
    let rs = conn
        .query("SELECT @@server_id AS id, @@hostname AS host")
        .await
        .unwrap();
    assert_eq!(rs.get(0, "id"), Some("7"));
    assert_eq!(rs.get(0, "host"), Some(name.as_str()));
    conn.query("CREATE DATABASE kept").await.unwrap();
    conn.query("CREATE TABLE kept.t (id INT PRIMARY KEY, v TEXT)")
        .await
        .unwrap();
    conn.query("INSERT INTO kept.t VALUES (1, 'on node2')")
        .await
        .unwrap();
    conn.close().await;

    // the replica on the zone-c node has it, over the overlay, from another node
    let replica_task = wait_task(manager, &replica_name).await;
    assert_eq!(replica_task.node_id, cluster.get("SWARM_NODE3_ID"));
    let replica_addr = cluster.get("SWARM_NODE3_ADDR");
    let mut on_replica = sql(replica_addr, &replica_task, &password).await;
    wait_row(&mut on_replica, 1, "on node2").await;
    let rs = on_replica.query("SELECT @@server_id AS id").await.unwrap();
    assert_eq!(rs.get(0, "id"), Some("8"));

    // pinned to its node once placed, then asleep (0 tasks): nothing runs,
    // the volume stays on node2; awake again: same node, same data, same id
    let mut pinned = instance.clone();
    pinned.placement = Placement::Pinned {
        node_id: node2_id.to_owned(),
        zone: Some("zone-b".into()),
    };
    pinned.running = false;
    nodes::update_service(manager, &name, swarm::instance_service(&pinned, &network))
        .await
        .unwrap();
    let node2 = &per_node[1].1;
    let deadline = Instant::now() + Duration::from_secs(30);
    while nodes::running_task(manager, &name).await.unwrap().is_some()
        || !running_containers(node2, &label_filter).await.is_empty()
    {
        assert!(
            Instant::now() < deadline,
            "{name} still running when asleep"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(
        labelled_volumes(node2, &label_filter).await,
        [format!("{name}-data")]
    );
    pinned.running = true;
    nodes::update_service(manager, &name, swarm::instance_service(&pinned, &network))
        .await
        .unwrap();
    let task = wait_task(manager, &name).await;
    assert_eq!(task.node_id, node2_id, "woke on another node");
    let mut conn = sql(addr, &task, &password).await;
    let rs = conn
        .query("SELECT @@server_id AS id, v FROM kept.t WHERE id = 1")
        .await
        .unwrap();
    assert_eq!(rs.get(0, "id"), Some("7"));
    assert_eq!(rs.get(0, "v"), Some("on node2"));
    // replication resumes with the woken master (new task, new overlay address)
    conn.query("INSERT INTO kept.t VALUES (2, 'after wake')")
        .await
        .unwrap();
    conn.close().await;
    wait_row(&mut on_replica, 2, "after wake").await;
    on_replica.close().await;

    // each volume is on its instance's node only, labelled
    for (i, (hostname, docker)) in per_node.iter().enumerate() {
        let vols = labelled_volumes(docker, &label_filter).await;
        let expect: Vec<String> = match i {
            1 => vec![format!("{name}-data")],
            2 => vec![format!("{replica_name}-data")],
            _ => vec![],
        };
        assert_eq!(vols, expect, "volumes on {hostname}");
    }

    // remove: services, then (once their containers are gone) volumes and network
    manager.delete_service(&name).await.unwrap();
    manager.delete_service(&replica_name).await.unwrap();
    for (docker, service) in [(node2, &name), (&per_node[2].1, &replica_name)] {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !labelled_containers(docker, &label_filter).await.is_empty() {
            assert!(
                Instant::now() < deadline,
                "task container of {service} not removed within 30 s"
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        docker
            .remove_volume(
                &format!("{service}-data"),
                None::<bollard::query_parameters::RemoveVolumeOptions>,
            )
            .await
            .unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while let Err(e) = manager.remove_network(&network).await {
        assert!(
            Instant::now() < deadline,
            "network not removable within 30 s: {e}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    // nothing left anywhere
    let filters = || {
        Some(HashMap::from([(
            "label".to_owned(),
            vec![label_filter.clone()],
        )]))
    };
    let services = manager
        .list_services(Some(ListServicesOptions {
            filters: filters(),
            status: None,
        }))
        .await
        .unwrap();
    assert!(services.is_empty());
    let networks = manager
        .list_networks(Some(ListNetworksOptions { filters: filters() }))
        .await
        .unwrap();
    assert!(networks.is_empty());
    for (hostname, docker) in per_node {
        assert!(
            labelled_containers(docker, &label_filter).await.is_empty(),
            "{hostname}"
        );
        assert!(
            labelled_volumes(docker, &label_filter).await.is_empty(),
            "{hostname}"
        );
    }
}

/// Four light instances of one service over three zones: one per zone and
/// the fourth in zone-a again (the spread says so), each task on the node of
/// its zone; removed without leftovers.
async fn four_instances_spread_over_three_zones(manager: &Docker, per_node: &[(String, Docker)]) {
    let listed = nodes::list_nodes(manager).await.unwrap();
    let zone_of: HashMap<String, String> = listed
        .iter()
        .filter_map(|n| Some((n.id.clone(), n.zone.clone()?)))
        .collect();
    let zones: Vec<String> = zone_of.values().cloned().collect();
    let spread = swarm::spread_zones(4, &zones);
    assert_eq!(spread.zones, ["zone-a", "zone-b", "zone-c", "zone-a"]);
    assert_eq!(
        spread.note.as_deref(),
        Some("4 instances over 3 zones: spread as evenly as possible (zone-a: 2, zone-b: 1, zone-c: 1)")
    );
    let TestDeployment {
        deployment,
        labels,
        label_filter,
        network,
    } = test_deployment(manager, "swarm-spread").await;
    let names: Vec<String> = (0..spread.zones.len())
        .map(|i| format!("ss-{deployment}-web-{i}"))
        .collect();
    for (name, zone) in names.iter().zip(&spread.zones) {
        let input = InstanceInput {
            name: name.clone(),
            image: IMAGE.into(),
            entrypoint: Some(vec![
                "sh".into(),
                "-c".into(),
                "trap 'exit 0' TERM; sleep 600 & wait".into(),
            ]),
            nano_cpus: Some(100_000_000),
            memory: Some(32 << 20),
            labels: labels.clone(),
            placement: Placement::Zone(zone.clone()),
            running: true,
            ..Default::default()
        };
        manager
            .create_service(swarm::instance_service(&input, &network), None)
            .await
            .unwrap();
    }
    for (name, zone) in names.iter().zip(&spread.zones) {
        let task = wait_task(manager, name).await;
        assert_eq!(zone_of.get(&task.node_id), Some(zone), "{name}");
    }
    for name in &names {
        manager.delete_service(name).await.unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    for (hostname, docker) in per_node {
        while !labelled_containers(docker, &label_filter).await.is_empty() {
            assert!(Instant::now() < deadline, "containers left on {hostname}");
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while let Err(e) = manager.remove_network(&network).await {
        assert!(
            Instant::now() < deadline,
            "network not removable within 30 s: {e}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Last phase (it kills a node's daemon; the swarm is torn down right after):
/// an instance pinned to node3 (zone-c), node3's dockerd killed. The manager
/// reports the node not ready, `lost_instances` names the instance and the
/// node, the task does not move by itself, and `replacement_zone` picks a
/// surviving zone. Returns the time the manager took to notice.
async fn lost_node_is_noticed(cluster: &Swarm, manager: &Docker) -> Duration {
    let deployment = format!("swarm-lost-{}", std::process::id());
    let labels = BTreeMap::from([
        (
            "org.specstudio.managed-by".to_owned(),
            "specstudio".to_owned(),
        ),
        ("org.specstudio.deployment".to_owned(), deployment.clone()),
    ]);
    let network = format!("ss-{deployment}");
    manager
        .create_network(swarm::overlay_network(&network, &labels))
        .await
        .unwrap();
    let node3 = cluster.get("SWARM_NODE3_ID");
    let name = format!("ss-{deployment}-replica-0");
    let placement = Placement::Pinned {
        node_id: node3.to_owned(),
        zone: Some("zone-c".into()),
    };
    let input = InstanceInput {
        name: name.clone(),
        image: IMAGE.into(),
        entrypoint: Some(vec![
            "sh".into(),
            "-c".into(),
            "trap 'exit 0' TERM; sleep 600 & wait".into(),
        ]),
        memory: Some(32 << 20),
        labels,
        placement: placement.clone(),
        running: true,
        ..Default::default()
    };
    manager
        .create_service(swarm::instance_service(&input, &network), None)
        .await
        .unwrap();
    assert_eq!(wait_task(manager, &name).await.node_id, node3);

    let pid: i32 = std::fs::read_to_string("/run/swarm-node3/dockerd.pid")
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    // SAFETY: kill(2) on the pid of the dockerd that scripts/swarm.sh started.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGKILL) }, 0);
    let killed = Instant::now();
    let nodes = loop {
        let nodes = nodes::list_nodes(manager).await.unwrap();
        if nodes
            .iter()
            .any(|n| n.hostname == "swarm-node3" && !n.ready)
        {
            break nodes;
        }
        assert!(
            killed.elapsed() < Duration::from_secs(90),
            "node3 still ready 90 s after its daemon died"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let noticed = killed.elapsed();
    assert_eq!(
        swarm::lost_instances(&nodes, [(name.as_str(), &placement)]),
        [LostInstance {
            service: name.clone(),
            node_id: node3.to_owned(),
            node: "swarm-node3".into(),
            zone: Some("zone-c".into()),
        }]
    );
    assert_eq!(
        swarm::replacement_zone(&nodes, Some("zone-c"), &["zone-a"]).as_deref(),
        Some("zone-b")
    );
    // pinned: the scheduler does not move it (and its data) elsewhere
    tokio::time::sleep(Duration::from_secs(3)).await;
    if let Some(t) = nodes::running_task(manager, &name).await.unwrap() {
        assert_eq!(t.node_id, node3, "the pinned instance moved");
    }
    noticed
}

/// Row `id` of `kept.t` reads `v` on this (replica) session within 60 s.
async fn wait_row(conn: &mut Conn, id: u32, v: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let got = conn
            .query(&format!("SELECT v FROM kept.t WHERE id = {id}"))
            .await
            .ok()
            .and_then(|rs| rs.get(0, "v").map(str::to_owned));
        if got.as_deref() == Some(v) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "row {id} not replicated within 60 s (got {got:?})"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// The running task of `service`, within 60 s.
async fn wait_task(manager: &Docker, service: &str) -> nodes::TaskPlacement {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(t) = nodes::running_task(manager, service).await.unwrap() {
            return t;
        }
        assert!(
            Instant::now() < deadline,
            "task of {service} not running within 60 s"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// A root session on the task's host-mode port for 3306 at `addr`, once
/// MySQL answers (within 90 s).
async fn sql(addr: &str, task: &nodes::TaskPlacement, password: &str) -> Conn {
    let port = *task.host_ports.get(&3306).expect("host-mode port for 3306");
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        match Conn::connect(addr, port, "root", password, None, Duration::from_secs(3)).await {
            Ok(c) => return c,
            Err(e) => assert!(
                Instant::now() < deadline,
                "MySQL at {addr}:{port} not answering within 90 s: {e}"
            ),
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

async fn running_containers(docker: &Docker, label: &str) -> Vec<String> {
    containers_with(docker, label, false).await
}

async fn labelled_containers(docker: &Docker, label: &str) -> Vec<String> {
    containers_with(docker, label, true).await
}

/// Ids of the containers carrying `label` (`all`: stopped ones too).
async fn containers_with(docker: &Docker, label: &str, all: bool) -> Vec<String> {
    docker
        .list_containers(Some(ListContainersOptions {
            all,
            filters: Some(HashMap::from([(
                "label".to_owned(),
                vec![label.to_owned()],
            )])),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_iter()
        .filter_map(|c| c.id)
        .collect()
}

async fn labelled_volumes(docker: &Docker, label: &str) -> Vec<String> {
    docker
        .list_volumes(Some(ListVolumesOptions {
            filters: Some(HashMap::from([(
                "label".to_owned(),
                vec![label.to_owned()],
            )])),
        }))
        .await
        .unwrap()
        .volumes
        .unwrap_or_default()
        .into_iter()
        .map(|v| v.name)
        .collect()
}
