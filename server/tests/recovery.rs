//! Data safety against a real Docker daemon and the real server binary: a
//! lost database file, a lost master volume and a lost network never destroy
//! data; recovery is explicit.
//!
//! Needs `dockerd` and `specstudio/mysql:local` (`bash images/mysql/build.sh`);
//! with `CI=true` a missing one FAILS the tests, locally they skip loudly.

#![allow(clippy::await_holding_lock)]

mod common;

use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;
use tokio::io::AsyncReadExt;

/// Poll `GET /api/deployments/{id}` until `pred` holds (bounded by `secs`).
async fn wait_until(
    server: &Server,
    id: &str,
    secs: u64,
    what: &str,
    t: &mut Transcript,
    pred: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let v = server.get(id, t).await;
        if pred(&v) {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "not {what} within {secs} s; last: {v}\n{}",
            server.logs()
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

fn running_containers(label: &str) -> usize {
    docker_cli(&[
        "ps",
        "-q",
        "--filter",
        &format!("label={label}"),
        "--filter",
        "status=running",
    ])
    .unwrap_or_default()
    .lines()
    .filter(|l| !l.trim().is_empty())
    .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_database_refuses_writes_and_restart_keeps_data_as_orphans() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if !docker_ready() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(dir.path());
    let mut t = Transcript::default();
    let id = deploy(&server, 1, &mut t).await;
    let label = format!("org.specstudio.deployment={id}");
    let _cleanup = Cleanup(label.clone());
    let v = wait_running(&server, &id, 1, &mut t).await;
    write_rows(endpoints(&v, "Master")[0], 0, 7).await;
    wait_spares(&server, &id, 1, &mut t).await;
    let volumes = labelled("volume", &label);
    assert_eq!(volumes.len(), 3, "master, replica, warm spare");

    // the state file vanishes under the running server
    for f in ["specstudio.db", "specstudio.db-wal", "specstudio.db-shm"] {
        let _ = std::fs::remove_file(dir.path().join("data").join(f));
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (s, v, raw) = server.call("GET", "/healthz", None, false).await;
        if s == 503 {
            assert_eq!(v["status"], "database_lost", "{raw}");
            break;
        }
        assert!(Instant::now() < deadline, "healthz still ok: {raw}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // writes are refused loudly, not accepted and lost
    let hostport = server.base.trim_start_matches("http://").to_owned();
    let spec_post = format!(
        "POST /api/specs HTTP/1.1\r\nHost: {hostport}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n{SEED}",
        SEED.len()
    );
    let mut s = tokio::net::TcpStream::connect(&hostport).await.unwrap();
    tokio::io::AsyncWriteExt::write_all(&mut s, spec_post.as_bytes())
        .await
        .unwrap();
    let mut buf = String::new();
    s.read_to_string(&mut buf).await.unwrap();
    assert!(buf.starts_with("HTTP/1.1 503"), "{buf}");
    assert!(buf.contains("database file"), "{buf}");
    let (s, _, raw) = server
        .call("DELETE", &format!("/api/deployments/{id}"), None, true)
        .await;
    assert_eq!(s, 503, "a delete on a lost database is refused: {raw}");
    assert!(server.logs().contains("vanished or was replaced"));

    // restart on an empty database: nothing is deleted
    server.kill();
    let server = Server::start(dir.path());
    assert_eq!(labelled("volume", &label), volumes, "volumes kept");
    assert_eq!(labelled("container", &label).len(), 3, "containers kept");
    assert_eq!(running_containers(&label), 0, "orphaned containers stopped");
    assert!(server.logs().contains("GET /api/orphans"));
    let (s, v, raw) = server.call("GET", "/api/orphans", None, false).await;
    assert_eq!(s, 200, "{raw}");
    let orphan = v
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["deployment"] == id.as_str())
        .unwrap_or_else(|| panic!("{id} not listed: {raw}"));
    assert_eq!(orphan["volumes"].as_array().unwrap().len(), 3, "{raw}");
    // removed only on an explicit, authenticated request
    let path = format!("/api/orphans/{id}");
    let (s, _, raw) = server.call("DELETE", &path, None, false).await;
    assert_eq!(s, 401, "{raw}");
    let (s, _, raw) = server
        .call("DELETE", "/api/orphans/dnothere", None, true)
        .await;
    assert_eq!(s, 404, "{raw}");
    let (s, _, raw) = server.call("DELETE", &path, None, true).await;
    assert_eq!(s, 200, "{raw}");
    assert_eq!(all_labelled(&label), (0, 0, 0));
    let (_, v, _) = server.call("GET", "/api/orphans", None, false).await;
    assert!(!v.to_string().contains(&id), "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_master_volume_degrades_and_reseed_restores_from_a_replica() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if !docker_ready() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    let mut t = Transcript::default();
    let id = deploy(&server, 1, &mut t).await;
    let label = format!("org.specstudio.deployment={id}");
    let _cleanup = Cleanup(label.clone());
    let v = wait_running(&server, &id, 1, &mut t).await;
    let master = service_endpoint(&v, "Master");
    let reader = service_endpoint(&v, "Replica");
    write_rows(master, 0, 10).await;
    wait_rows(reader, 10).await;
    wait_spares(&server, &id, 1, &mut t).await;

    // the master and its data volume are removed behind the server's back
    let name = v["containers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["resource"] == "Master")
        .unwrap()["name"]
        .as_str()
        .unwrap()
        .to_owned();
    let volume = docker_cli(&[
        "inspect",
        "--format",
        "{{range .Mounts}}{{.Name}}{{end}}",
        &name,
    ])
    .unwrap()
    .trim()
    .to_owned();
    assert!(volume.starts_with("ss-"), "{volume}");
    docker_cli(&["rm", "-f", &name]).unwrap();
    docker_cli(&["volume", "rm", &volume]).unwrap();

    let v = wait_until(
        &server,
        &id,
        40,
        "degraded for a lost volume",
        &mut t,
        |v| {
            v["status"] == "degraded" && v["message"].as_str().is_some_and(|m| m.contains("reseed"))
        },
    )
    .await;
    assert!(v["message"].as_str().unwrap().contains(&volume), "{v}");
    assert_eq!(v["needsReseed"], true, "the view offers the re-seed: {v}");
    let (_, list, _) = server.call("GET", "/api/deployments", None, false).await;
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .any(|d| d["id"] == id.as_str() && d["needsReseed"] == true),
        "the list offers the re-seed: {list}"
    );
    // not re-created empty, not even after a watch period
    tokio::time::sleep(Duration::from_secs(12)).await;
    assert!(
        docker_cli(&["volume", "inspect", &volume]).is_none(),
        "re-created empty"
    );
    assert!(
        docker_cli(&["inspect", &name]).is_none(),
        "master re-created"
    );
    // replicas keep serving reads; the master endpoint holds clients
    let mut c = app_conn(reader).await;
    assert_eq!(count_rows(&mut c).await, Some(10));
    c.close().await;
    let mut held = tokio::net::TcpStream::connect(("127.0.0.1", master))
        .await
        .unwrap();
    let mut b = [0u8; 1];
    let r = tokio::time::timeout(Duration::from_millis(1500), held.read(&mut b)).await;
    assert!(
        r.is_err(),
        "the master endpoint answered without a master: {r:?}"
    );
    drop(held);
    let events = server.events(&id, 1).await;
    t.add(&events);
    assert!(events.contains("not re-creating them empty"), "{events}");

    // explicit recovery
    let path = format!("/api/deployments/{id}/reseed");
    let (s, _, raw) = server.call("POST", &path, None, false).await;
    assert_eq!(s, 401, "{raw}");
    let (s, _, raw) = server.call("POST", &path, None, true).await;
    t.add(&raw);
    assert_eq!(s, 202, "{raw}\n{}", server.logs());
    let v = wait_running(&server, &id, 1, &mut t).await;
    assert_eq!(v["needsReseed"], false, "{v}");
    let mut c = app_conn(service_endpoint(&v, "Master")).await;
    assert_eq!(
        count_rows(&mut c).await,
        Some(10),
        "the master has the rows"
    );
    c.close().await;
    write_rows(service_endpoint(&v, "Master"), 10, 15).await;
    wait_rows(service_endpoint(&v, "Replica"), 15).await;
    let (s, _, raw) = server.call("POST", &path, None, true).await;
    assert_eq!(s, 409, "nothing left to re-seed: {raw}");
    let events = server.events(&id, 1).await;
    t.add(&events);
    assert!(events.contains("re-seeding"), "{events}");
    delete_and_check_clean(&server, &id, &mut t).await;
    assert_no_secrets("API responses and events", &t.0, &t.1);
    assert_no_secrets("the server log", &server.logs(), &t.1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_network_while_asleep_is_recreated_on_wake() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if !docker_ready() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_with(dir.path(), &["--idle-stop-after", "3"]);
    let mut t = Transcript::default();
    let id = deploy(&server, 1, &mut t).await;
    let label = format!("org.specstudio.deployment={id}");
    let _cleanup = Cleanup(label.clone());
    let v = wait_running(&server, &id, 1, &mut t).await;
    let master = service_endpoint(&v, "Master");
    write_rows(master, 0, 4).await;
    wait_spares(&server, &id, 1, &mut t).await;
    wait_until(&server, &id, 90, "asleep", &mut t, |v| {
        v["status"] == "stopped"
    })
    .await;
    let nets = labelled("network", &label);
    assert_eq!(nets.len(), 1);
    docker_cli(&["network", "rm", &nets[0]]).expect("remove the network while asleep");

    // a client wakes it: the network and containers come back, rows kept
    let mut c = app_conn_within(master, Duration::from_secs(180)).await;
    assert_eq!(count_rows(&mut c).await, Some(4));
    c.close().await;
    let v = server.get(&id, &mut t).await;
    assert_ne!(v["status"], "failed", "{v}");
    assert_eq!(labelled("network", &label).len(), 1);
    let events = server.events(&id, 1).await;
    t.add(&events);
    assert!(events.contains("was missing: created again"), "{events}");
    delete_and_check_clean(&server, &id, &mut t).await;
}

/// A scale-down killed between removing a replica's container and its
/// volume (the test-only fault point `SPECSTUDIO_CRASH_AT`): the restarted
/// server removes the volume the user asked to drop, and the replica scaled
/// back up starts empty and catches up from the master — a row only the old
/// replica held does not come back — then serves reads.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_during_scale_down_leaves_no_stale_replica_data() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if !docker_ready() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // no warm spare: the replica scaled away is the one that held data
    let spec = SEED.replace("minimumNodesInPool: 1", "minimumNodesInPool: 0");
    let crash = [("SPECSTUDIO_CRASH_AT", "scale-down-volumes")];
    let mut server = Server::start_env(dir.path(), &[], &crash);
    let mut t = Transcript::default();
    let id = deploy_spec(&server, &spec, 2, &mut t).await;
    let label = format!("org.specstudio.deployment={id}");
    let _cleanup = Cleanup(label.clone());
    let v = wait_running(&server, &id, 2, &mut t).await;
    let master = service_endpoint(&v, "Master");
    write_rows(master, 0, 10).await;
    let replica1 = replica_endpoints(&v, "Replica")[1].1;
    wait_rows(replica1, 10).await;
    // a row only replica 1 holds (root, kept out of its binlog): what a
    // reused volume would bring back
    let root = param_value(dir.path(), &id, "mysqlRootPassword");
    t.1.push(root.clone());
    let mut c = specstudio::mysql::Conn::connect(
        "127.0.0.1",
        replica1,
        "root",
        &root,
        Some("appdb"),
        Duration::from_secs(5),
    )
    .await
    .unwrap();
    c.query("SET sql_log_bin = 0").await.unwrap();
    c.query("INSERT INTO t VALUES (999, 'only-on-replica-1')")
        .await
        .unwrap();
    assert_eq!(count_rows(&mut c).await, Some(11));
    c.close().await;

    // scale down: the server dies after the container, before the volume
    let (container, volume) = (format!("ss-{id}-replica-1"), format!("ss-{id}-replica-1-0"));
    patch_params(
        &server,
        &id,
        serde_json::json!({"numReadReplicas": 1}),
        &mut t,
    )
    .await;
    let status = server.wait_exit(120);
    assert!(
        status.is_some(),
        "no crash at the fault point\n{}",
        server.logs()
    );
    assert!(
        docker_cli(&["inspect", &container]).is_none(),
        "container removed"
    );
    assert!(
        docker_cli(&["volume", "inspect", &volume]).is_some(),
        "volume left by the crash"
    );

    // restarted: the volume the user asked to drop goes
    let server = Server::start(dir.path());
    let deadline = Instant::now() + Duration::from_secs(120);
    while docker_cli(&["volume", "inspect", &volume]).is_some() {
        assert!(
            Instant::now() < deadline,
            "the stale volume stayed\n{}",
            server.logs()
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    wait_running(&server, &id, 1, &mut t).await;

    // scaled back up: replica 1 starts empty and catches up, then serves
    patch_params(
        &server,
        &id,
        serde_json::json!({"numReadReplicas": 2}),
        &mut t,
    )
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let v = wait_running(&server, &id, 2, &mut t).await;
    let master = service_endpoint(&v, "Master");
    write_rows(master, 10, 12).await;
    let replica1 = replica_endpoints(&v, "Replica")[1].1;
    wait_rows(replica1, 12).await;
    let mut c = app_conn(replica1).await;
    let stale = c
        .query("SELECT COUNT(*) AS n FROM t WHERE id = 999")
        .await
        .unwrap();
    assert_eq!(stale.get(0, "n"), Some("0"), "a stale row came back");
    c.close().await;
    let events = server.events(&id, 1).await;
    t.add(&events);
    assert!(
        events.contains(&format!("volume {volume} removed")),
        "{events}"
    );
    delete_and_check_clean(&server, &id, &mut t).await;
    assert_no_secrets("API responses and events", &t.0, &t.1);
    assert_no_secrets("the server log", &server.logs(), &t.1);
}
