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
    let Some(mut s) = Session::start(&[]) else {
        return;
    };
    let (d, v) = s.deploy_running(SEED, 1).await;
    let (id, label) = (&d.id, &d.label);
    write_rows(endpoints(&v, "Master")[0], 0, 7).await;
    s.wait_spares(id, 1).await;
    let volumes = labelled("volume", label);
    assert_eq!(volumes.len(), 3, "master, replica, warm spare");

    // the state file vanishes under the running server
    for f in ["specstudio.db", "specstudio.db-wal", "specstudio.db-shm"] {
        let _ = std::fs::remove_file(s.path().join("data").join(f));
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (code, v, raw) = s.server.call("GET", "/healthz", None, false).await;
        if code == 503 {
            assert_eq!(v["status"], "database_lost", "{raw}");
            break;
        }
        assert!(Instant::now() < deadline, "healthz still ok: {raw}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // writes are refused loudly, not accepted and lost
    let hostport = s.server.base.trim_start_matches("http://").to_owned();
    let spec_post = format!(
        "POST /api/specs HTTP/1.1\r\nHost: {hostport}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n{SEED}",
        SEED.len()
    );
    let mut conn = tokio::net::TcpStream::connect(&hostport).await.unwrap();
    tokio::io::AsyncWriteExt::write_all(&mut conn, spec_post.as_bytes())
        .await
        .unwrap();
    let mut buf = String::new();
    conn.read_to_string(&mut buf).await.unwrap();
    assert!(buf.starts_with("HTTP/1.1 503"), "{buf}");
    assert!(buf.contains("database file"), "{buf}");
    let (code, _, raw) = s
        .server
        .call("DELETE", &format!("/api/deployments/{id}"), None, true)
        .await;
    assert_eq!(code, 503, "a delete on a lost database is refused: {raw}");
    assert!(s.server.logs().contains("vanished or was replaced"));

    // restart on an empty database: nothing is deleted
    s.restart(&[], &[]);
    let server = &s.server;
    assert_eq!(labelled("volume", label), volumes, "volumes kept");
    assert_eq!(labelled("container", label).len(), 3, "containers kept");
    assert_eq!(running_containers(label), 0, "orphaned containers stopped");
    assert!(server.logs().contains("GET /api/orphans"));
    let (code, v, raw) = server.call("GET", "/api/orphans", None, false).await;
    assert_eq!(code, 200, "{raw}");
    let orphan = v
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["deployment"] == id.as_str())
        .unwrap_or_else(|| panic!("{id} not listed: {raw}"));
    assert_eq!(orphan["volumes"].as_array().unwrap().len(), 3, "{raw}");
    // removed only on an explicit, authenticated request
    let path = format!("/api/orphans/{id}");
    let (code, _, raw) = server.call("DELETE", &path, None, false).await;
    assert_eq!(code, 401, "{raw}");
    let (code, _, raw) = server
        .call("DELETE", "/api/orphans/dnothere", None, true)
        .await;
    assert_eq!(code, 404, "{raw}");
    let (code, _, raw) = server.call("DELETE", &path, None, true).await;
    assert_eq!(code, 200, "{raw}");
    assert_eq!(all_labelled(label), (0, 0, 0));
    let (_, v, _) = server.call("GET", "/api/orphans", None, false).await;
    assert!(!v.to_string().contains(id.as_str()), "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_master_volume_degrades_and_reseed_restores_from_a_replica() {
    let Some(mut s) = Session::start(&[]) else {
        return;
    };
    let (d, v) = s.deploy_running(SEED, 1).await;
    let id = d.id.clone();
    let master = service_endpoint(&v, "Master");
    let reader = service_endpoint(&v, "Replica");
    write_rows(master, 0, 10).await;
    wait_rows(reader, 10).await;
    s.wait_spares(&id, 1).await;

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
        &s.server,
        &id,
        40,
        "degraded for a lost volume",
        &mut s.t,
        |v| {
            v["status"] == "degraded" && v["message"].as_str().is_some_and(|m| m.contains("reseed"))
        },
    )
    .await;
    assert!(v["message"].as_str().unwrap().contains(&volume), "{v}");
    assert_eq!(v["needsReseed"], true, "the view offers the re-seed: {v}");
    let (_, list, _) = s.server.call("GET", "/api/deployments", None, false).await;
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
    let events = s.events(&id, 1).await;
    assert!(events.contains("not re-creating them empty"), "{events}");

    // explicit recovery
    let path = format!("/api/deployments/{id}/reseed");
    let (code, _, raw) = s.server.call("POST", &path, None, false).await;
    assert_eq!(code, 401, "{raw}");
    let (code, _, raw) = s.server.call("POST", &path, None, true).await;
    s.t.add(&raw);
    assert_eq!(code, 202, "{raw}\n{}", s.server.logs());
    let v = s.wait_running(&id, 1).await;
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
    let (code, _, raw) = s.server.call("POST", &path, None, true).await;
    assert_eq!(code, 409, "nothing left to re-seed: {raw}");
    let events = s.events(&id, 1).await;
    assert!(events.contains("re-seeding"), "{events}");
    s.finish(&id).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_network_while_asleep_is_recreated_on_wake() {
    let Some(mut s) = Session::start(&["--idle-stop-after", "3"]) else {
        return;
    };
    let (d, v) = s.deploy_running(SEED, 1).await;
    let (id, label) = (d.id.clone(), d.label.clone());
    let master = service_endpoint(&v, "Master");
    write_rows(master, 0, 4).await;
    s.wait_spares(&id, 1).await;
    wait_until(&s.server, &id, 90, "asleep", &mut s.t, |v| {
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
    let v = s.server.get(&id, &mut s.t).await;
    assert_ne!(v["status"], "failed", "{v}");
    assert_eq!(labelled("network", &label).len(), 1);
    let events = s.events(&id, 1).await;
    assert!(events.contains("was missing: created again"), "{events}");
    s.finish(&id).await;
}

/// A scale-down killed between removing a replica's container and its
/// volume (the test-only fault point `SPECSTUDIO_CRASH_AT`): the restarted
/// server removes the volume the user asked to drop, and the replica scaled
/// back up starts empty and catches up from the master — a row only the old
/// replica held does not come back — then serves reads.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_during_scale_down_leaves_no_stale_replica_data() {
    let crash = [("SPECSTUDIO_CRASH_AT", "scale-down-volumes")];
    let Some(mut s) = Session::start_env(&[], &crash) else {
        return;
    };
    // no warm spare: the replica scaled away is the one that held data
    let spec = SEED.replace("minimumNodesInPool: 1", "minimumNodesInPool: 0");
    let (d, v) = s.deploy_running(&spec, 2).await;
    let id = d.id.clone();
    let master = service_endpoint(&v, "Master");
    write_rows(master, 0, 10).await;
    let replica1 = replica_endpoints(&v, "Replica")[1].1;
    wait_rows(replica1, 10).await;
    // a row only replica 1 holds (root, kept out of its binlog): what a
    // reused volume would bring back
    let root = param_value(s.path(), &id, "mysqlRootPassword");
    s.t.1.push(root.clone());
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
    let container = format!("ss-{id}-replica-1");
    let volume = format!("ss-{id}-replica-1-0");
    s.patch(&id, serde_json::json!({"numReadReplicas": 1}))
        .await;
    let exited = s.server.wait_exit(120);
    assert!(exited.is_some(), "no crash\n{}", s.server.logs());
    assert!(docker_cli(&["inspect", &container]).is_none(), "removed");
    assert!(
        docker_cli(&["volume", "inspect", &volume]).is_some(),
        "volume left by the crash"
    );

    // restarted: the volume the user asked to drop goes
    s.restart(&[], &[]);
    let deadline = Instant::now() + Duration::from_secs(120);
    while docker_cli(&["volume", "inspect", &volume]).is_some() {
        assert!(
            Instant::now() < deadline,
            "the stale volume stayed\n{}",
            s.server.logs()
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    s.wait_running(&id, 1).await;

    // scaled back up: replica 1 starts empty and catches up, then serves
    s.patch(&id, serde_json::json!({"numReadReplicas": 2}))
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let v = s.wait_running(&id, 2).await;
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
    let events = s.events(&id, 1).await;
    assert!(
        events.contains(&format!("volume {volume} removed")),
        "{events}"
    );
    s.finish(&id).await;
}
