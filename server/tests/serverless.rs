//! Serverless end-to-end tests against a real Docker daemon, the real server
//! binary and real MySQL clients (Debian's `mariadb-client`: `mysql`,
//! `mysqlslap`): auto-stop after idling and wake-on-connect through the same
//! endpoint, no auto-stop without `serverlessConfiguration`, per-replica
//! endpoints that survive a container restart, and autoscaling of the read
//! replicas under load on the reader endpoint.
//!
//! Each test runs its own server with short timings (`--idle-stop-after`,
//! `--autoscale-minute-secs`). With `CI=true` a missing daemon, image or
//! client fails the tests; locally they are skipped with a loud message. The
//! tests run one at a time (a global lock): they count labelled Docker objects
//! and the machine has 2 cores.

// The std mutex serializes tests that each run their own runtime; holding it
// across awaits is the point.
#![allow(clippy::await_holding_lock)]

mod common;

use std::collections::BTreeSet;
use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use serde_json::{json, Value};
use specstudio::mysql::Conn;

/// The seed without any `serverlessConfiguration`.
const NO_SERVERLESS: &str = include_str!("specs/no-serverless-mysql-master-replica.yaml");
/// The seed with Replica autoscaling 1..3, 3 "minutes" over 60 % / under 20 %.
const AUTOSCALE: &str = include_str!("specs/autoscale-mysql-master-replica.yaml");

/// What a bounded child process left behind.
struct Ran {
    /// `None` when it was killed at the time limit.
    success: Option<bool>,
    stdout: String,
    stderr: String,
}

/// Run `cmd` to completion, killing it after `limit`. Blocking: call from a
/// blocking thread.
fn run_bounded(mut cmd: Command, limit: Duration) -> Ran {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn a client");
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out_t = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let err_t = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let deadline = Instant::now() + limit;
    let success = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status.success()),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(100)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
        }
    };
    Ran {
        success,
        stdout: out_t.join().unwrap_or_default(),
        stderr: err_t.join().unwrap_or_default(),
    }
}

/// The real `mysql` client as `appuser` on `127.0.0.1:port`, password through
/// `MYSQL_PWD` (never argv); one attempt, bounded by `limit`.
async fn mysql_cli(port: u16, sql: &str, limit: Duration) -> Ran {
    let mut cmd = Command::new("mysql");
    cmd.args(["-h", "127.0.0.1", "-P", &port.to_string(), "-u", "appuser"])
        .args(["--database=appdb", "--batch", "--skip-column-names"])
        // longer than the server's default --wake-timeout: the proxy holds
        // the client until the deployment is awake
        .arg("--connect-timeout=180")
        .args(["-e", sql])
        .env("MYSQL_PWD", APP_PASSWORD);
    tokio::task::spawn_blocking(move || run_bounded(cmd, limit))
        .await
        .unwrap()
}

/// `docker inspect` state of a container (`running`, `exited`, …), `None`
/// when it does not exist.
fn container_state(name: &str) -> Option<String> {
    docker_cli(&["inspect", "--format", "{{.State.Status}}", name]).map(|s| s.trim().to_owned())
}

fn container_names(v: &Value) -> Vec<String> {
    v["containers"]
        .as_array()
        .unwrap_or_else(|| panic!("no containers array: {v}"))
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_owned())
        .collect()
}

/// Poll `GET` until `status == want` (bounded by `secs`).
async fn wait_status(
    server: &Server,
    id: &str,
    want: &str,
    secs: u64,
    t: &mut Transcript,
) -> Value {
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut seen = Vec::new();
    loop {
        let v = server.get(id, t).await;
        let status = v["status"].as_str().unwrap_or("?").to_owned();
        if seen.last() != Some(&status) {
            seen.push(status.clone());
        }
        if status == want {
            return v;
        }
        assert_ne!(status, "failed", "{v}\n{}", server.logs());
        assert!(
            Instant::now() < deadline,
            "status not `{want}` within {secs} s (statuses seen: {seen:?}); last: {v}\n{}",
            server.logs()
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// A connection as `appuser` that may wait for a wake (bounded).
async fn patient_conn(port: u16) -> Conn {
    app_conn_within(port, Duration::from_secs(180)).await
}

/// Until `t` on `port` has `n` rows; connections may wait for a wake.
async fn wait_rows_patient(port: u16, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(240);
    let mut last = None;
    loop {
        let mut c = patient_conn(port).await;
        last = count_rows(&mut c).await.or(last);
        c.close().await;
        if last == Some(n) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "127.0.0.1:{port} did not show {n} rows (last count {last:?})"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// The number after the last `→` of an autoscaling step ("… → 2 replicas").
fn scaled_to(message: &str) -> Option<u64> {
    message
        .rsplit('→')
        .next()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_stop_then_wake_on_connect_keeps_rows() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if !docker_ready() || !tool_ready("mysql", "mariadb-client") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_with(dir.path(), &["--idle-stop-after", "4"]);
    let mut t = Transcript::default();
    let id = deploy(&server, 1, &mut t).await;
    let label = format!("org.specstudio.deployment={id}");
    let _cleanup = Cleanup(label.clone());
    let v = wait_running(&server, &id, 1, &mut t).await;
    assert_eq!(v["serverless"]["autoStop"], true, "{v}");
    assert_eq!(v["serverless"]["idleStopAfterSecs"], 4, "{v}");
    let before = endpoint_table(&v);
    let master = service_endpoint(&v, "Master");
    let replicas = endpoints(&v, "Replica");
    assert_eq!(replicas.len(), 1, "one endpoint per replica: {v}");
    let reader = service_endpoint(&v, "Replica");
    let names = container_names(&v);
    assert_eq!(names.len(), 2, "{v}");
    write_rows(master, 0, 12).await; // and closes its connection
    wait_spares(&server, &id, 1, &mut t).await;
    let volumes = labelled("volume", &label);
    assert_eq!(
        volumes.len(),
        3,
        "one volume per container (and the warm spare)"
    );

    // idle: stopped, containers down, volumes kept
    let stopped = wait_status(&server, &id, "stopped", 90, &mut t).await;
    assert!(
        stopped["serverless"]["stops"].as_u64() >= Some(1),
        "{stopped}"
    );
    assert_eq!(
        endpoint_table(&stopped),
        before,
        "endpoints stay listed with their ports while asleep: {stopped}"
    );
    let mut all = labelled("container", &label);
    all.extend(names.iter().cloned());
    for c in &all {
        let state = container_state(c);
        assert!(
            state.as_deref() != Some("running"),
            "{c} still runs while the deployment is stopped: {stopped}"
        );
    }
    for vol in &volumes {
        assert!(
            docker_cli(&["volume", "inspect", vol]).is_some(),
            "volume {vol} removed by the auto-stop"
        );
    }

    // the real client, once, through the same port: held until awake
    let ran = mysql_cli(master, "SELECT COUNT(*) FROM t", Duration::from_secs(240)).await;
    t.add(&ran.stdout);
    t.add(&ran.stderr);
    assert_eq!(
        ran.success,
        Some(true),
        "mysql through the stopped Master endpoint 127.0.0.1:{master} failed: {}\n{}",
        ran.stderr,
        server.logs()
    );
    assert_eq!(ran.stdout.trim(), "12", "rows kept across stop and wake");

    // keep it awake while reading the replica (an open connection is not idle)
    let mut hold = patient_conn(master).await;
    assert_eq!(count_rows(&mut hold).await, Some(12));
    for port in replicas.iter().chain([&reader]) {
        wait_rows_patient(*port, 12).await;
    }
    let v = wait_status(&server, &id, "running", 120, &mut t).await;
    assert_eq!(endpoint_table(&v), before, "endpoint ports changed: {v}");
    assert!(v["serverless"]["wakes"].as_u64() >= Some(1), "{v}");
    hold.close().await;

    let raw = server.events(&id, 2).await;
    t.add(&raw);
    let events = parse_events(&raw);
    let status = statuses(&events);
    eprintln!("status events: {status:?}");
    assert!(
        events.iter().any(|e| e.kind == "step"
            && e.message.starts_with("waking")
            && e.message.contains("Master")),
        "no step saying the connection on Master woke it: {events:?}"
    );
    let stop = status
        .iter()
        .position(|s| *s == "stopped")
        .unwrap_or_else(|| panic!("no `stopped` status event: {status:?}"));
    let wake = status[stop..]
        .iter()
        .position(|s| *s == "waking")
        .unwrap_or_else(|| panic!("no `waking` status after `stopped`: {status:?}"));
    assert!(
        status[stop + wake..].contains(&"running"),
        "no `running` after `waking`: {status:?}"
    );
    // the master is routed on its first handshake, before its SQL ping
    assert_routed_before_pinged(&events, &format!("ss-{id}-master-0"));

    // omnistrateLogging: the containers' output is kept (and redacted)
    let (s, _, raw) = server
        .call(
            "GET",
            &format!("/api/deployments/{id}/logs?tail=50"),
            None,
            false,
        )
        .await;
    t.add(&raw);
    assert_eq!(s, 200, "{raw}");
    assert!(
        raw.contains(&format!("[ss-{id}-master-0]")),
        "no kept log line of the master: {raw}"
    );
    // omnistrateMetrics: per-deployment series on /metrics
    let (s, _, raw) = server.call("GET", "/metrics", None, false).await;
    t.add(&raw);
    assert_eq!(s, 200, "{raw}");
    let series = |name: &str| -> Vec<f64> {
        raw.lines()
            .filter(|l| {
                l.starts_with(&format!("{name}{{")) && l.contains(&format!("deployment=\"{id}\""))
            })
            .filter_map(|l| l.rsplit(' ').next()?.parse().ok())
            .collect()
    };
    let sum = |name: &str| series(name).iter().sum::<f64>();
    assert!(
        sum("specstudio_endpoint_connections_total") >= 3.0,
        "connections through the endpoints: {raw}"
    );
    assert!(sum("specstudio_endpoint_bytes_total") > 0.0, "{raw}");
    assert!(sum("specstudio_deployment_wakes_total") >= 1.0, "{raw}");
    assert!(sum("specstudio_deployment_stops_total") >= 1.0, "{raw}");
    assert_eq!(series("specstudio_service_replicas").len(), 2, "{raw}");

    delete_and_check_clean(&server, &id, &mut t).await;
    assert_no_secrets("API responses, events and client output", &t.0, &t.1);
    assert_no_secrets("the server log", &server.logs(), &t.1);
}

/// The paused tier: idle for `--idle-pause-after`, the containers are
/// frozen (`docker pause`, memory kept); a real client on the Master
/// endpoint is held, the deployment thawed, and the rows are there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_pause_then_thaw_on_connect_keeps_rows() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if !docker_ready() || !tool_ready("mysql", "mariadb-client") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_with(
        dir.path(),
        &["--idle-pause-after", "3", "--idle-stop-after", "600"],
    );
    let mut t = Transcript::default();
    let id = deploy(&server, 1, &mut t).await;
    let label = format!("org.specstudio.deployment={id}");
    let _cleanup = Cleanup(label.clone());
    let v = wait_running(&server, &id, 1, &mut t).await;
    let before = endpoint_table(&v);
    let master = service_endpoint(&v, "Master");
    let names = container_names(&v);
    write_rows(master, 0, 7).await;
    wait_spares(&server, &id, 1, &mut t).await;

    let paused = wait_status(&server, &id, "paused", 90, &mut t).await;
    assert_eq!(endpoint_table(&paused), before, "{paused}");
    let (s, _, raw) = server.call("GET", "/metrics", None, false).await;
    assert_eq!(s, 200, "{raw}");
    assert!(
        raw.lines().any(|l| l == "specstudio_pauses_total 1"),
        "one pause counted: {raw}"
    );
    for c in &names {
        assert_eq!(
            container_state(c).as_deref(),
            Some("paused"),
            "{c} is frozen: {paused}"
        );
    }

    let ran = mysql_cli(master, "SELECT COUNT(*) FROM t", Duration::from_secs(120)).await;
    t.add(&ran.stdout);
    t.add(&ran.stderr);
    assert_eq!(
        ran.success,
        Some(true),
        "mysql through the paused Master endpoint failed: {}\n{}",
        ran.stderr,
        server.logs()
    );
    assert_eq!(ran.stdout.trim(), "7", "rows kept across pause and thaw");
    let v = wait_status(&server, &id, "running", 120, &mut t).await;
    assert_eq!(endpoint_table(&v), before, "{v}");
    for c in &names {
        assert_eq!(container_state(c).as_deref(), Some("running"), "{v}");
    }
    let raw = server.events(&id, 2).await;
    t.add(&raw);
    let events = parse_events(&raw);
    let status = statuses(&events);
    let pause = status
        .iter()
        .position(|s| *s == "paused")
        .unwrap_or_else(|| panic!("no `paused` status event: {status:?}"));
    assert!(
        status[pause..].contains(&"waking") && status[pause..].contains(&"running"),
        "{status:?}"
    );
    assert!(
        events
            .iter()
            .any(|e| e.kind == "step" && e.message.contains("unpaused")),
        "{events:?}"
    );
    // the fast wake: the master routed as soon as it was unpaused, before any
    // SQL readiness gate (the normal reconcile pings it first, then routes)
    let master_name = v["containers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["resource"] == "Master")
        .and_then(|c| c["name"].as_str())
        .unwrap_or_else(|| panic!("no Master container: {v}"))
        .to_owned();
    assert_routed_before_pinged(&events, &master_name);
    delete_and_check_clean(&server, &id, &mut t).await;
    assert_no_secrets("API responses, events and client output", &t.0, &t.1);
}

/// The paused tier across a server restart, then down to the stopped tier:
/// a deployment paused by one server is still paused under the next one
/// (same endpoint ports); a real client on the Master endpoint thaws it and
/// reads the rows written before the pause; idle again, it is paused, then
/// stopped at `--idle-stop-after` (containers exited, not frozen).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paused_survives_restart_wakes_on_connect_then_stops() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if !docker_ready() || !tool_ready("mysql", "mariadb-client") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start_with(
        dir.path(),
        &["--idle-pause-after", "2", "--idle-stop-after", "600"],
    );
    let mut t = Transcript::default();
    let id = deploy(&server, 1, &mut t).await;
    let label = format!("org.specstudio.deployment={id}");
    let _cleanup = Cleanup(label.clone());
    let v = wait_running(&server, &id, 1, &mut t).await;
    let before = endpoint_table(&v);
    let master = service_endpoint(&v, "Master");
    let names = container_names(&v);
    write_rows(master, 0, 5).await;
    wait_spares(&server, &id, 1, &mut t).await;
    wait_status(&server, &id, "paused", 90, &mut t).await;

    // a new server on the same data: still paused, same ports
    server.kill();
    let server = Server::start_with(
        dir.path(),
        &["--idle-pause-after", "2", "--idle-stop-after", "12"],
    );
    let v = server.get(&id, &mut t).await;
    assert_eq!(v["status"], "paused", "restart keeps the tier: {v}");
    assert_eq!(endpoint_table(&v), before, "{v}");
    for c in &names {
        assert_eq!(container_state(c).as_deref(), Some("paused"), "{c}: {v}");
    }
    let ran = mysql_cli(master, "SELECT COUNT(*) FROM t", Duration::from_secs(120)).await;
    t.add(&ran.stdout);
    t.add(&ran.stderr);
    assert_eq!(
        ran.success,
        Some(true),
        "mysql through the paused Master endpoint after a restart failed: {}\n{}",
        ran.stderr,
        server.logs()
    );
    assert_eq!(
        ran.stdout.trim(),
        "5",
        "rows kept across pause, restart, thaw"
    );

    // idle again: paused (2 s), then stopped (12 s)
    wait_status(&server, &id, "paused", 60, &mut t).await;
    let v = wait_status(&server, &id, "stopped", 90, &mut t).await;
    assert_eq!(endpoint_table(&v), before, "{v}");
    for c in &names {
        assert_eq!(container_state(c).as_deref(), Some("exited"), "{c}: {v}");
    }
    let raw = server.events(&id, 2).await;
    t.add(&raw);
    let status = statuses(&parse_events(&raw))
        .into_iter()
        .map(str::to_owned)
        .collect::<Vec<_>>();
    let paused = status.iter().rposition(|s| s == "paused");
    let stopped = status.iter().rposition(|s| s == "stopped");
    assert!(
        matches!((paused, stopped), (Some(p), Some(s)) if p < s),
        "paused then stopped: {status:?}"
    );
    delete_and_check_clean(&server, &id, &mut t).await;
    assert_no_secrets("API responses, events and client output", &t.0, &t.1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_serverless_deployment_is_never_stopped() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if !docker_ready() {
        return;
    }
    let report = shared::analyze(NO_SERVERLESS);
    assert!(!report.has_errors(), "{:?}", report.diagnostics);
    assert!(
        NO_SERVERLESS
            .lines()
            .filter(|l| !l.trim_start().starts_with('#'))
            .all(|l| !l.contains("serverlessConfiguration")),
        "the fixture must have no serverlessConfiguration"
    );
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_with(dir.path(), &["--idle-stop-after", "2"]);
    let mut t = Transcript::default();
    let id = deploy_spec(&server, NO_SERVERLESS, 1, &mut t).await;
    let label = format!("org.specstudio.deployment={id}");
    let _cleanup = Cleanup(label.clone());
    let v = wait_running(&server, &id, 1, &mut t).await;
    assert!(
        v["serverless"].is_null() || v["serverless"]["autoStop"] == false,
        "no serverlessConfiguration, no auto-stop: {v}"
    );
    let names = container_names(&v);
    assert_eq!(names.len(), 2, "{v}");

    // idle for five times --idle-stop-after, looking every 500 ms (at least
    // 20 looks)
    let idle_from = Instant::now();
    let mut polls = 0;
    while polls < 20 || idle_from.elapsed() < Duration::from_secs(10) {
        let v = server.get(&id, &mut t).await;
        assert_eq!(v["status"], "running", "an idle deployment changed: {v}");
        for c in v["containers"].as_array().unwrap() {
            assert_eq!(c["state"], "running", "{v}");
        }
        if polls % 4 == 0 {
            for n in &names {
                assert_eq!(container_state(n).as_deref(), Some("running"), "{n}");
            }
        }
        polls += 1;
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let raw = server.events(&id, 2).await;
    t.add(&raw);
    let events = parse_events(&raw);
    assert!(!events.is_empty(), "no events read: {raw}");
    let status = statuses(&events);
    assert!(
        !status.iter().any(|s| *s == "stopping" || *s == "stopped"),
        "a deployment without serverlessConfiguration was stopped: {status:?}"
    );
    // still serves
    write_then_read_replicas(&v).await;

    delete_and_check_clean(&server, &id, &mut t).await;
    assert_no_secrets("API responses and events", &t.0, &t.1);
    assert_no_secrets("the server log", &server.logs(), &t.1);
}

/// Write on the Master endpoint, read on every Replica endpoint.
async fn write_then_read_replicas(v: &Value) {
    write_rows(service_endpoint(v, "Master"), 0, 3).await;
    for port in endpoints(v, "Replica") {
        wait_rows(port, 3).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replica_endpoints_survive_container_restart() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if !docker_ready() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_with(dir.path(), &["--idle-stop-after", "600"]);
    let mut t = Transcript::default();
    let id = deploy(&server, 2, &mut t).await;
    let label = format!("org.specstudio.deployment={id}");
    let _cleanup = Cleanup(label.clone());
    let v = wait_running(&server, &id, 2, &mut t).await;
    let before = endpoint_table(&v);
    let per_replica = replica_endpoints(&v, "Replica");
    assert_eq!(
        per_replica.iter().map(|(r, _)| *r).collect::<Vec<_>>(),
        vec![0, 1],
        "one endpoint per replica: {v}"
    );
    let port1 = per_replica[1].1;
    let master = service_endpoint(&v, "Master");
    write_rows(master, 0, 7).await;
    wait_rows(port1, 7).await;
    let server_id = |port: u16| async move {
        let mut c = app_conn(port).await;
        let set = c.query("SELECT @@server_id AS id").await.unwrap();
        c.close().await;
        set.get(0, "id").unwrap().to_owned()
    };
    let id1 = server_id(port1).await;
    assert_ne!(id1, server_id(per_replica[0].1).await, "distinct replicas");
    let victim = format!("ss-{id}-replica-1");
    let host_port = |v: &Value| {
        v["containers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == victim.as_str())
            .and_then(|c| c["hostPort"].as_u64())
    };
    let direct_before = host_port(&v);

    docker_cli(&["restart", &victim]).expect("docker restart a replica");

    // the same endpoint port reaches the same replica again
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let last_err = match Conn::connect(
            "127.0.0.1",
            port1,
            "appuser",
            APP_PASSWORD,
            Some("appdb"),
            Duration::from_secs(5),
        )
        .await
        {
            Ok(mut c) => {
                let n = count_rows(&mut c).await;
                let sid = c
                    .query_timeout("SELECT @@server_id AS id", Duration::from_secs(5))
                    .await
                    .ok()
                    .and_then(|s| s.get(0, "id").map(str::to_owned));
                c.close().await;
                if n == Some(7) {
                    assert_eq!(sid.as_deref(), Some(id1.as_str()), "another replica");
                    break;
                }
                format!("count {n:?}")
            }
            Err(e) => e.to_string(),
        };
        assert!(
            Instant::now() < deadline,
            "no answer through 127.0.0.1:{port1} after the restart: {last_err}\n{}",
            server.logs()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let v = wait_running(&server, &id, 2, &mut t).await;
    assert_eq!(endpoint_table(&v), before, "endpoint ports changed: {v}");
    eprintln!(
        "{victim}: direct host port {direct_before:?} → {:?}, endpoint 127.0.0.1:{port1} kept",
        host_port(&v)
    );
    // replication resumed on the restarted replica, through its endpoint
    write_rows(master, 7, 10).await;
    for (_, port) in &per_replica {
        wait_rows(*port, 10).await;
    }

    delete_and_check_clean(&server, &id, &mut t).await;
    assert_no_secrets("API responses", &t.0, &t.1);
    assert_no_secrets("the server log", &server.logs(), &t.1);
}

/// `(Replica containers, those routable with healthy replication)`.
fn replica_counts(v: &Value) -> (usize, usize) {
    let containers: Vec<&Value> = v["containers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["resource"] == "Replica")
        .collect();
    let healthy: Vec<&str> = v["replication"]
        .as_array()
        .map(|r| {
            r.iter()
                .filter(|x| x["resource"] == "Replica" && x["healthy"] == true)
                .filter_map(|x| x["container"].as_str())
                .collect()
        })
        .unwrap_or_default();
    let serving = containers
        .iter()
        .filter(|c| c["routable"] == true && healthy.contains(&c["name"].as_str().unwrap_or("")))
        .count();
    (containers.len(), serving)
}

fn replica_autoscaling(v: &Value) -> &Value {
    v["autoscaling"]
        .as_array()
        .and_then(|a| a.iter().find(|x| x["resource"] == "Replica"))
        .unwrap_or_else(|| panic!("no autoscaling entry for Replica: {v}"))
}

/// Sustained load on `port` with `mysqlslap`, invocation after invocation,
/// until `stop` or `total` elapses. Returns (runs that succeeded, failures).
fn slap_until(port: u16, stop: Arc<AtomicBool>, total: Duration) -> (u32, Vec<String>) {
    let deadline = Instant::now() + total;
    let (mut ok, mut failures) = (0, Vec::new());
    while !stop.load(Ordering::SeqCst) && Instant::now() < deadline {
        let mut cmd = Command::new("mysqlslap");
        cmd.args(["-h", "127.0.0.1", "-P", &port.to_string(), "-u", "appuser"])
            .args([
                "--create-schema=appdb",
                "--concurrency=4",
                "--iterations=10",
            ])
            .arg("--query=SELECT BENCHMARK(2000000, SHA2('x',256))")
            .env("MYSQL_PWD", APP_PASSWORD);
        let ran = run_bounded(cmd, Duration::from_secs(60));
        if ran.success == Some(true) {
            ok += 1;
        } else {
            failures.push(format!("{:?}: {}", ran.success, ran.stderr.trim()));
            std::thread::sleep(Duration::from_millis(500));
        }
    }
    (ok, failures)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_on_reader_endpoint_scales_up_then_down() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if !docker_ready() || !tool_ready("mysqlslap", "mariadb-client") {
        return;
    }
    let report = shared::analyze(AUTOSCALE);
    assert!(!report.has_errors(), "{:?}", report.diagnostics);
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_with(
        dir.path(),
        &["--autoscale-minute-secs", "1", "--idle-stop-after", "600"],
    );
    let mut t = Transcript::default();
    let id = deploy_spec(&server, AUTOSCALE, 1, &mut t).await;
    let label = format!("org.specstudio.deployment={id}");
    let _cleanup = Cleanup(label.clone());
    let v = wait_running(&server, &id, 1, &mut t).await;
    let a = replica_autoscaling(&v);
    assert_eq!(a["minReplicas"], 1, "{v}");
    assert_eq!(a["maxReplicas"], 3, "{v}");
    let reader = service_endpoint(&v, "Replica");

    // load on the reader endpoint until a second replica serves
    let stop = Arc::new(AtomicBool::new(false));
    let load = tokio::task::spawn_blocking({
        let stop = stop.clone();
        move || slap_until(reader, stop, Duration::from_secs(180))
    });
    let deadline = Instant::now() + Duration::from_secs(200);
    let mut peak = 1;
    let scaled = loop {
        let v = server.get(&id, &mut t).await;
        let (replicas, serving) = replica_counts(&v);
        assert!(replicas <= 3, "more than maxReplicas: {v}");
        assert_ne!(v["status"], "failed", "{v}\n{}", server.logs());
        peak = peak.max(serving);
        if serving >= 2 {
            break v;
        }
        assert!(
            Instant::now() < deadline && !load.is_finished(),
            "no second serving replica under load (replicas {replicas}, serving {serving}): {v}\n{}",
            server.logs()
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
    };
    stop.store(true, Ordering::SeqCst);
    let (runs, failures) = load.await.unwrap();
    assert!(
        runs >= 1,
        "mysqlslap never succeeded on the reader endpoint: {failures:?}"
    );
    eprintln!("load: {runs} mysqlslap runs, failures {failures:?}; peak serving {peak}");
    assert_eq!(
        service_endpoint(&scaled, "Replica"),
        reader,
        "the reader endpoint moved"
    );

    // idle again: back to minReplicas
    let deadline = Instant::now() + Duration::from_secs(180);
    let v = loop {
        let v = server.get(&id, &mut t).await;
        let (replicas, serving) = replica_counts(&v);
        assert!(replicas <= 3, "more than maxReplicas: {v}");
        if replicas == 1 && serving == 1 && replica_autoscaling(&v)["replicas"] == 1 {
            break v;
        }
        assert_ne!(v["status"], "failed", "{v}\n{}", server.logs());
        assert!(
            Instant::now() < deadline,
            "not scaled back to 1 replica: {v}\n{}",
            server.logs()
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
    };
    assert_eq!(service_endpoint(&v, "Replica"), reader);
    let raw = server.events(&id, 2).await;
    t.add(&raw);
    let events = parse_events(&raw);
    let steps: Vec<&str> = events
        .iter()
        .filter(|e| e.kind == "step" && e.message.contains("autoscaling"))
        .map(|e| e.message.as_str())
        .collect();
    eprintln!("autoscaling steps: {steps:?}");
    let up = steps
        .iter()
        .position(|m| m.contains("Replica") && scaled_to(m) >= Some(2))
        .unwrap_or_else(|| panic!("no autoscaling step up to ≥ 2 replicas: {steps:?}"));
    assert!(
        steps[up..]
            .iter()
            .any(|m| m.contains("Replica") && scaled_to(m) == Some(1)),
        "no autoscaling step back to 1 replica after the scale-up: {steps:?}"
    );
    // the remaining replica still replicates
    write_rows(service_endpoint(&v, "Master"), 0, 5).await;
    wait_rows(reader, 5).await;

    delete_and_check_clean(&server, &id, &mut t).await;
    assert_no_secrets("API responses and events", &t.0, &t.1);
    assert_no_secrets("the server log", &server.logs(), &t.1);
}

/// Scale-down drains: the replica leaving takes no new connection, its open
/// clients keep working until they leave, then it stops (kept as the warm
/// spare; the previous spare is removed).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scale_down_drains_open_reader_connections_first() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if !docker_ready() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_with(
        dir.path(),
        &["--idle-stop-after", "600", "--drain-timeout", "120"],
    );
    let mut t = Transcript::default();
    let id = deploy(&server, 2, &mut t).await;
    let label = format!("org.specstudio.deployment={id}");
    let _cleanup = Cleanup(label.clone());
    let v = wait_running(&server, &id, 2, &mut t).await;
    let reader = service_endpoint(&v, "Replica");
    let master = service_endpoint(&v, "Master");
    write_rows(master, 0, 5).await;
    for (_, port) in replica_endpoints(&v, "Replica") {
        wait_rows(port, 5).await;
    }
    // two clients on the reader endpoint land on the two replicas
    let mut clients = Vec::new();
    let mut ids = BTreeSet::new();
    for _ in 0..2 {
        let mut c = app_conn(reader).await;
        let set = c.query("SELECT @@server_id AS id").await.unwrap();
        ids.insert(set.get(0, "id").unwrap().to_owned());
        clients.push(c);
    }
    assert_eq!(ids.len(), 2, "the reader balances over both replicas");
    patch_params(&server, &id, json!({"numReadReplicas": 1}), &mut t).await;
    // the replica to remove drains: it is announced, and still there
    let victim = format!("ss-{id}-replica-1");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let raw = server.events(&id, 1).await;
        if raw.contains(&format!("draining {victim}")) {
            t.add(&raw);
            break;
        }
        assert!(Instant::now() < deadline, "no draining event: {raw}");
    }
    assert!(
        docker_cli(&["inspect", "--format", "{{.State.Running}}", &victim])
            .is_some_and(|s| s.trim() == "true"),
        "a draining replica keeps running while clients use it"
    );
    // open clients keep working while it drains; new ones go elsewhere
    for c in &mut clients {
        assert_eq!(count_rows(c).await, Some(5), "a client was cut mid-drain");
    }
    let mut fresh = app_conn(reader).await;
    let set = fresh.query("SELECT @@server_id AS id").await.unwrap();
    let fresh_id = set.get(0, "id").unwrap().to_owned();
    fresh.close().await;
    let mut on_victim = None;
    for (i, c) in clients.iter_mut().enumerate() {
        let set = c.query("SELECT @@server_id AS id").await.unwrap();
        if set.get(0, "id") != Some(fresh_id.as_str()) {
            on_victim = Some(i);
        }
    }
    assert!(on_victim.is_some(), "one client is on the draining replica");
    // when they leave, the replica stops: it is the warm spare now (the
    // seed keeps minimumNodesInPool: 1), and the previous spare is removed
    for c in clients {
        c.close().await;
    }
    let v = wait_running(&server, &id, 1, &mut t).await;
    assert_eq!(replica_endpoints(&v, "Replica").len(), 1, "{v}");
    let v = wait_spares(&server, &id, 1, &mut t).await;
    assert_eq!(v["spares"][0]["name"], victim.as_str(), "{v}");
    assert_eq!(
        docker_cli(&["inspect", "--format", "{{.State.Running}}", &victim])
            .map(|s| s.trim().to_owned())
            .as_deref(),
        Some("false"),
        "the drained replica is stopped and kept warm"
    );
    assert!(
        docker_cli(&["inspect", &format!("ss-{id}-replica-2")]).is_none(),
        "the previous spare is removed"
    );
    let raw = server.events(&id, 2).await;
    t.add(&raw);
    assert!(raw.contains(&format!("drained {victim}")), "{raw}");
    delete_and_check_clean(&server, &id, &mut t).await;
    assert_no_secrets("API responses and events", &t.0, &t.1);
}

/// The sleeping state and the endpoint ports are durable: a server restarted
/// while a deployment sleeps listens on the same ports, and the first client
/// wakes the deployment with its data.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_restart_while_asleep_keeps_endpoints_and_wakes() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if !docker_ready() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let args = ["--idle-stop-after", "3"];
    let mut server = Server::start_with(dir.path(), &args);
    let mut t = Transcript::default();
    let id = deploy(&server, 1, &mut t).await;
    let label = format!("org.specstudio.deployment={id}");
    let _cleanup = Cleanup(label.clone());
    let v = wait_running(&server, &id, 1, &mut t).await;
    let before = endpoint_table(&v);
    let master = service_endpoint(&v, "Master");
    write_rows(master, 0, 9).await;
    wait_status(&server, &id, "stopped", 90, &mut t).await;
    server.kill();
    // nothing listens while the server is down
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", master)).is_err(),
        "the endpoint outlived its server"
    );
    let server = Server::start_with(dir.path(), &args);
    let v = wait_status(&server, &id, "stopped", 60, &mut t).await;
    assert_eq!(
        endpoint_table(&v),
        before,
        "endpoint ports after a restart: {v}"
    );
    assert!(
        container_names(&v)
            .iter()
            .all(|c| container_state(c).as_deref() != Some("running")),
        "still asleep after the restart: {v}"
    );
    // this client is the one that wakes it
    let mut c = patient_conn(master).await;
    assert_eq!(
        count_rows(&mut c).await,
        Some(9),
        "rows after restart + wake"
    );
    c.close().await;
    let v = wait_status(&server, &id, "running", 120, &mut t).await;
    assert_eq!(endpoint_table(&v), before);
    delete_and_check_clean(&server, &id, &mut t).await;
    assert_no_secrets("API responses and events", &t.0, &t.1);
    assert_no_secrets("the server log", &server.logs(), &t.1);
}

/// After the last `waking`, `master` took connections before its SQL ping
/// (the wake routes a MySQL master on its first handshake).
fn assert_routed_before_pinged(events: &[Ev], master: &str) {
    let waking = events
        .iter()
        .rposition(|e| e.kind == "status" && e.message == "waking")
        .unwrap_or_else(|| panic!("no `waking`: {events:?}"));
    let after = |message: String| {
        waking
            + events[waking..]
                .iter()
                .position(|e| e.kind == "step" && e.message == message)
                .unwrap_or_else(|| panic!("no step `{message}` after waking: {events:?}"))
    };
    assert!(
        after(format!("{master} takes connections")) < after(format!("{master} ready (SQL ping)")),
        "the master is routed before its SQL ping: {events:?}"
    );
}
