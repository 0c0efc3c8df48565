//! Kernel forwarding of endpoint ports (issue 14) against the real kernel,
//! the real Docker daemon, the real server binary and real MySQL clients:
//! while awake, a client on an endpoint is DNATed by the kernel to the
//! container (MariaDB sees it come from the bridge, not from our proxy's
//! socket); the API's counters grow from the kernel's figures; a scale-down
//! drains with the listener taking over; a paused deployment holds its
//! client on the listener and wakes; the rules go with the deployment, with
//! a graceful stop, and a SIGKILLed server's rules are found and removed by
//! the next start. `--kernel-forward off` keeps every byte in the proxy.
//!
//! Needs root (iptables). Only loopback and this test's own containers.

#![allow(clippy::await_holding_lock)]

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::*;
use serde_json::{json, Value};
use specstudio::mysql::Conn;

/// `iptables -t TABLE -S` (all chains), or `None` when it cannot run.
fn iptables(table: &str) -> Option<String> {
    let out = Command::new("iptables")
        .args(["-w", "5", "-t", table, "-S"])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Every rule of ours (both tables) mentioning `needle`.
fn our_rules(needle: &str) -> Vec<String> {
    ["nat", "filter"]
        .iter()
        .flat_map(|t| {
            iptables(t)
                .unwrap_or_default()
                .lines()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .filter(|l| l.contains("specstudio-fwd") && l.contains(needle))
        .collect()
}

/// The DNAT targets of endpoint port `port` now.
fn dnat_targets(port: u16) -> Vec<String> {
    let mut out: Vec<String> = our_rules(&format!("--dport {port} "))
        .into_iter()
        .filter_map(|l| {
            l.split("--to-destination ")
                .nth(1)
                .map(|t| t.trim().to_owned())
        })
        .collect();
    out.sort();
    out
}

/// The `pid=` of the jump rules of the server with instance tag `tag`.
fn jump_pids(tag: &str) -> Vec<u32> {
    let mut pids: Vec<u32> = our_rules(&format!("tag={tag} "))
        .iter()
        .filter_map(|l| l.split("pid=").nth(1)?.split('"').next()?.parse().ok())
        .collect();
    pids.sort_unstable();
    pids.dedup();
    pids
}

/// The tag chains of this data dir are named after (`forward::tag_of`).
fn tag_of(dir: &std::path::Path) -> String {
    let id = std::fs::read_to_string(dir.join("data/instance-id")).unwrap();
    specstudio::forward::tag_of(id.trim())
}

/// Progress on stderr (`--nocapture`), with the time since the test began.
fn step(t0: Instant, what: &str) {
    eprintln!(
        "[kernel_forward {:6.1} s] {what}",
        t0.elapsed().as_secs_f64()
    );
}

async fn wait_for(what: &str, secs: u64, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !ok() {
        assert!(Instant::now() < deadline, "not within {secs} s: {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The host part of `USER()`: `localhost` through our proxy (the shared
/// socket), the bridge's gateway address when the kernel forwarded it.
async fn client_host(c: &mut Conn) -> String {
    let set = c
        .query("SELECT SUBSTRING_INDEX(USER(), '@', -1) AS h")
        .await
        .unwrap();
    set.get(0, "h").unwrap().to_owned()
}

fn kernel_seen(host: &str) -> bool {
    host.parse::<std::net::Ipv4Addr>().is_ok()
}

async fn status_of(server: &Server, id: &str, t: &mut Transcript) -> String {
    server.get(id, t).await["status"]
        .as_str()
        .unwrap_or("?")
        .to_owned()
}

fn endpoint_counter(v: &Value, port: u16, field: &str) -> u64 {
    v["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["port"] == port)
        .and_then(|e| e[field].as_u64())
        .unwrap_or_else(|| panic!("no {field} on endpoint {port}: {v}"))
}

/// `specstudio_endpoint_bytes_total` of one endpoint and direction.
async fn metric_bytes(server: &Server, id: &str, endpoint: &str, direction: &str) -> u64 {
    let (_, _, raw) = server.call("GET", "/metrics", None, false).await;
    let want = format!("deployment=\"{id}\"");
    raw.lines()
        .filter(|l| l.starts_with("specstudio_endpoint_bytes_total{"))
        .filter(|l| l.contains(&want) && l.contains(&format!("endpoint=\"{endpoint}\"")))
        .filter(|l| l.contains(direction))
        .find_map(|l| l.rsplit(' ').next()?.parse().ok())
        .unwrap_or(0)
}

fn root_with_iptables() -> bool {
    // SAFETY: geteuid has no preconditions
    let root = unsafe { libc::geteuid() } == 0;
    require((!root || iptables("nat").is_none()).then(|| {
        "kernel forwarding needs root and a working `iptables` (apt-get install iptables)"
            .to_owned()
    }))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kernel_forwarding_counts_drains_pauses_and_cleans_up() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if !docker_ready() || !root_with_iptables() {
        return;
    }
    let t0 = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "--kernel-forward",
        "on",
        "--idle-pause-after",
        "3",
        "--idle-stop-after",
        "600",
        "--drain-timeout",
        "120",
    ];
    let mut server = Server::start_with(dir.path(), &args);
    let tag = tag_of(dir.path());
    assert_eq!(
        jump_pids(&tag).len(),
        1,
        "one server's jumps: {:?}",
        our_rules(&tag)
    );
    let mut t = Transcript::default();
    let id = deploy(&server, 2, &mut t).await;
    let _cleanup = Cleanup(format!("org.specstudio.deployment={id}"));
    let v = wait_running(&server, &id, 2, &mut t).await;
    let master = service_endpoint(&v, "Master");
    let reader = service_endpoint(&v, "Replica");

    // 1. awake: the kernel forwards the Master endpoint to the container
    step(t0, "1. awake");
    wait_for("a DNAT for the Master endpoint", 30, || {
        dnat_targets(master).len() == 1
    })
    .await;
    write_rows(master, 0, 5).await;
    let mut keep = app_conn(master).await;
    let host = client_host(&mut keep).await;
    assert!(
        kernel_seen(&host),
        "MariaDB sees the bridge, not our proxy: {host}"
    );
    assert_eq!(count_rows(&mut keep).await, Some(5));
    // a kernel-forwarded client keeps the deployment awake (idle after 3 s)
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(status_of(&server, &id, &mut t).await, "running");

    // 2. counters: connections, open ones and bytes come from the kernel
    step(t0, "2. counters");
    let v = server.get(&id, &mut t).await;
    assert!(endpoint_counter(&v, master, "connections") >= 2, "{v}");
    assert!(endpoint_counter(&v, master, "active") >= 1, "{v}");
    let before = metric_bytes(&server, &id, "Master", "server_to_client").await;
    for _ in 0..20 {
        assert_eq!(count_rows(&mut keep).await, Some(5));
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while metric_bytes(&server, &id, "Master", "server_to_client").await < before + 20 * 40 {
        assert!(
            Instant::now() < deadline,
            "bytes did not grow from {before}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // 3. the reader balances over both replicas in the kernel, then a
    step(
        t0,
        "3. the reader balances over both replicas in the kernel",
    );
    //    scale-down drains the leaving one through our listener
    for (_, port) in replica_endpoints(&v, "Replica") {
        wait_rows(port, 5).await;
    }
    wait_for("a DNAT over both replicas", 30, || {
        dnat_targets(reader).len() == 2
    })
    .await;
    let mut clients = Vec::new();
    let mut ids = std::collections::BTreeSet::new();
    for _ in 0..2 {
        let mut c = app_conn(reader).await;
        assert!(kernel_seen(&client_host(&mut c).await));
        let set = c.query("SELECT @@server_id AS id").await.unwrap();
        ids.insert(set.get(0, "id").unwrap().to_owned());
        clients.push(c);
    }
    assert_eq!(
        ids.len(),
        2,
        "the kernel's round robin reaches both replicas"
    );
    patch_params(&server, &id, json!({"numReadReplicas": 1}), &mut t).await;
    let victim = format!("ss-{id}-replica-1");
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let raw = server.events(&id, 1).await;
        if raw.contains(&format!("draining {victim}")) {
            assert!(
                raw.contains("waiting up to 120 s for 1 open connection"),
                "{raw}"
            );
            break;
        }
        assert!(Instant::now() < deadline, "no draining event: {raw}");
    }
    assert!(
        dnat_targets(reader).is_empty(),
        "the listener takes the reader while it drains"
    );
    let mut fresh = app_conn(reader).await;
    assert_eq!(
        client_host(&mut fresh).await,
        "localhost",
        "proxied while draining"
    );
    fresh.close().await;
    for c in &mut clients {
        assert_eq!(
            count_rows(c).await,
            Some(5),
            "a forwarded client was cut mid-drain"
        );
    }
    for c in clients {
        c.close().await;
    }
    let v = wait_running(&server, &id, 1, &mut t).await;
    assert_eq!(replica_endpoints(&v, "Replica").len(), 1, "{v}");
    wait_spares(&server, &id, 1, &mut t).await;
    let raw = server.events(&id, 1).await;
    assert!(raw.contains(&format!("drained {victim}")), "{raw}");
    wait_for("the reader forwarded again, to one replica", 30, || {
        dnat_targets(reader).len() == 1
    })
    .await;

    // 4. pause: the rules go before the freeze; a client is held by our
    step(t0, "4. pause");
    //    listener, the deployment thaws, and the kernel takes over again
    keep.close().await;
    let deadline = Instant::now() + Duration::from_secs(90);
    while status_of(&server, &id, &mut t).await != "paused" {
        assert!(Instant::now() < deadline, "not paused\n{}", server.logs());
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert!(dnat_targets(master).is_empty(), "{:?}", our_rules(&id));
    let mut held = app_conn_within(master, Duration::from_secs(60)).await;
    assert_eq!(
        client_host(&mut held).await,
        "localhost",
        "held and served by our listener"
    );
    assert_eq!(
        count_rows(&mut held).await,
        Some(5),
        "rows kept across the pause"
    );
    wait_for("the Master forwarded again after the thaw", 30, || {
        dnat_targets(master).len() == 1
    })
    .await;

    // 5. SIGKILL: the rules stay behind; the next start of the same data dir
    step(t0, "5. SIGKILL");
    //    removes them, then forwards again once the deployment is routed
    held.close().await;
    let old_pid = jump_pids(&tag);
    server.kill();
    assert_eq!(jump_pids(&tag), old_pid, "a killed server cannot clean up");
    assert_eq!(
        dnat_targets(master).len(),
        1,
        "left behind by the killed server"
    );
    let server = Server::start_with(dir.path(), &args);
    let new_pid = jump_pids(&tag);
    assert_eq!(new_pid.len(), 1, "{:?}", our_rules(&tag));
    assert_ne!(
        new_pid, old_pid,
        "the killed server's rules were removed at start-up"
    );
    // (the endpoint refuses until the reconcile binds it again, as without
    // kernel forwarding: the killed server's listeners went with it)
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut c = loop {
        let c = Conn::connect(
            "127.0.0.1",
            master,
            "appuser",
            APP_PASSWORD,
            Some("appdb"),
            Duration::from_secs(60),
        )
        .await;
        match c {
            Ok(c) => break c,
            Err(e) => assert!(
                Instant::now() < deadline,
                "the restarted server's endpoint: {e}"
            ),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(count_rows(&mut c).await, Some(5));
    // (the open client keeps it awake: idle, it would pause in 3 s)
    wait_for("forwarded again after the restart", 120, || {
        dnat_targets(master).len() == 1
    })
    .await;
    c.close().await;

    // 6. delete: every rule of the deployment goes
    step(t0, "6. delete");
    delete_and_check_clean(&server, &id, &mut t).await;
    assert!(
        our_rules(&format!("d={id} ")).is_empty(),
        "{:?}",
        our_rules(&id)
    );

    // 7. graceful stop: the server's chains and jumps go
    step(t0, "7. graceful stop");
    let pid = new_pid[0];
    assert!(Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap()
        .success());
    wait_for("no rule of the stopped server", 30, || {
        our_rules(&format!("SSF-{tag}-")).is_empty()
    })
    .await;
    drop(server);
    assert_no_secrets("API responses and events", &t.0, &t.1);
}

/// `--kernel-forward off`: no rule at all, every client through the proxy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kernel_forwarding_off_proxies_every_client() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if !docker_ready() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // SAFETY: geteuid has no preconditions
    let iptables_here = iptables("nat").is_some() && unsafe { libc::geteuid() } == 0;
    if iptables_here {
        // a killed run with forwarding leaves its chains; a start without
        // forwarding still removes them (their DNAT would take our clients)
        let mut on = Server::start_with(dir.path(), &["--kernel-forward", "on"]);
        on.kill();
        assert_eq!(
            jump_pids(&tag_of(dir.path())).len(),
            1,
            "left by the killed run"
        );
    }
    let server = Server::start_with(
        dir.path(),
        &["--kernel-forward", "off", "--idle-stop-after", "600"],
    );
    if iptables_here {
        assert!(
            jump_pids(&tag_of(dir.path())).is_empty(),
            "{:?}",
            our_rules(&tag_of(dir.path()))
        );
    }
    let mut t = Transcript::default();
    let id = deploy(&server, 1, &mut t).await;
    let _cleanup = Cleanup(format!("org.specstudio.deployment={id}"));
    let v = wait_running(&server, &id, 1, &mut t).await;
    let master = service_endpoint(&v, "Master");
    write_rows(master, 0, 3).await;
    let mut c = app_conn(master).await;
    assert_eq!(
        client_host(&mut c).await,
        "localhost",
        "proxied over the shared socket"
    );
    assert_eq!(count_rows(&mut c).await, Some(3));
    c.close().await;
    assert!(
        server.logs().contains("kernel forwarding: off"),
        "one log line says so"
    );
    if iptables("nat").is_some() {
        assert!(our_rules(&tag_of(dir.path())).is_empty());
        assert!(dnat_targets(master).is_empty());
    }
    delete_and_check_clean(&server, &id, &mut t).await;
}
