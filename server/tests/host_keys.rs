//! Host-escaping compose keys an operator allowed (`--allow-host-key
//! network_mode,volumes_from,gpus`) against a real Docker daemon: a sidecar
//! in the master's network namespace answers on the master's port and reads
//! the master's volume; `gpus` on a daemon without a GPU driver is a clear
//! `failed` deployment, not a crash; without the flag the keys are `422`
//! naming it, and with it they stay within the deployment.

#![allow(clippy::await_holding_lock)]

mod common;

use std::time::{Duration, Instant};

use common::*;
use tokio::io::AsyncReadExt;

/// The master writes a file in its volume and sleeps; the sidecar, in the
/// master's network namespace with the master's volumes, serves that file on
/// port 7000 (which the master publishes) and leaves a file of its own.
const SIDECAR: &str = r#"services:
  Master:
    image: e2e/sleeper:1
    user: "0:0"
    entrypoint: ["sh", "-c", "echo written-by-master > /data/from-master; exec sleep 600"]
    ports: ["7000"]
    volumes:
      - ./data:/data
  Sidecar:
    image: e2e/sleeper:1
    user: "0:0"
    network_mode: service:Master
    volumes_from: ["Master"]
    entrypoint: ["sh", "-c", "echo written-by-sidecar > /data/from-sidecar; exec socat TCP-LISTEN:7000,fork,reuseaddr SYSTEM:'cat /data/from-master'"]
"#;

const GPUS: &str = r#"services:
  Trainer:
    image: e2e/sleeper:1
    entrypoint: ["sleep", "600"]
    gpus: all
"#;

/// What a client reads from `127.0.0.1:port` (retried for 30 s: the
/// endpoint may route before socat listens).
async fn read_from(port: u16) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(Ok(mut s)) = tokio::time::timeout(
            Duration::from_secs(3),
            tokio::net::TcpStream::connect(("127.0.0.1", port)),
        )
        .await
        {
            let mut buf = Vec::new();
            let _ = tokio::time::timeout(Duration::from_secs(3), s.read_to_end(&mut buf)).await;
            let text = String::from_utf8_lossy(&buf).trim().to_owned();
            if !text.is_empty() {
                return text;
            }
        }
        assert!(Instant::now() < deadline, "nothing answered on {port}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shared_network_and_volumes_within_the_deployment_and_a_gpu_refusal() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if !docker_ready() {
        return;
    }
    let mut t = Transcript::default();

    // without the flag: refused before Docker is touched, naming the flag
    let plain_dir = tempfile::tempdir().unwrap();
    let plain = Server::start_with(plain_dir.path(), SLEEPER);
    for (spec, key) in [
        (SIDECAR, "network_mode"),
        (SIDECAR, "volumes_from"),
        (GPUS, "gpus"),
    ] {
        let (s, v, raw) = post_spec(&plain, spec).await;
        assert_eq!(s, 422, "{raw}");
        assert_eq!(v["error"]["code"], "invalid_spec", "{raw}");
        assert!(
            raw.contains(&format!("`--allow-host-key {key}`")),
            "{key}: {raw}"
        );
    }
    drop(plain);

    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_with(
        dir.path(),
        &[
            "--allow-host-key",
            "network_mode,volumes_from,gpus",
            SLEEPER[0],
            SLEEPER[1],
        ],
    );
    let instance = || {
        let id = std::fs::read_to_string(dir.path().join("data/instance-id")).unwrap();
        format!("org.specstudio.instance={}", id.trim())
    };
    // allowed, but only within the deployment
    for (from, to, needle) in [
        (
            "service:Master",
            "host",
            "only `service:NAME` or `container:NAME`",
        ),
        (
            "service:Master",
            "container:dockerd",
            "`container:dockerd` is not a service of this spec",
        ),
        (
            "[\"Master\"]",
            "[\"Ghost\"]",
            "`Ghost` is not a service of this spec",
        ),
    ] {
        let (s, v, raw) = post_spec(&server, &SIDECAR.replace(from, to)).await;
        assert_eq!(s, 422, "{to}: {raw}");
        assert_eq!(v["error"]["code"], "invalid_deployment", "{raw}");
        assert!(raw.contains(needle), "{needle}: {raw}");
    }
    assert_eq!(all_labelled(&instance()), (0, 0, 0), "nothing created");

    // the sidecar answers on the master's port, with the master's file
    let (s, v, raw) = post_spec(&server, SIDECAR).await;
    assert_eq!(s, 202, "{raw}");
    let id = v["id"].as_str().unwrap().to_owned();
    let _cleanup = Cleanup(format!("org.specstudio.deployment={id}"));
    let view = wait_view(&server, &id, &mut t, "running", |v| {
        v["status"] == "running"
    })
    .await;
    let port = service_endpoint(&view, "Master");
    assert_eq!(read_from(port).await, "written-by-master");
    let master = format!("ss-{id}-master-0");
    let sidecar = format!("ss-{id}-sidecar-0");
    let master_id = docker_cli(&["inspect", "--format", "{{.Id}}", &master]).unwrap();
    let mode = docker_cli(&[
        "inspect",
        "--format",
        "{{.HostConfig.NetworkMode}}",
        &sidecar,
    ]);
    assert_eq!(
        mode.as_deref().map(str::trim),
        Some(format!("container:{}", master_id.trim()).as_str()),
        "joined the master's namespace"
    );
    // the sidecar's write is in the master's volume
    let read = docker_cli(&["exec", &master, "cat", "/data/from-sidecar"]);
    assert_eq!(read.as_deref().map(str::trim), Some("written-by-sidecar"));
    // the sidecar made no volume of its own: only the master's exists
    let vols = labelled("volume", &format!("org.specstudio.deployment={id}"));
    assert_eq!(vols, [format!("ss-{id}-master-0-0")], "{vols:?}");

    // the master dies and the repair watch starts it again in a new network
    // namespace: the sidecar left in the old one would answer nowhere, so it
    // is replaced after the master and answers on the master's port again
    let sidecar_id = docker_cli(&["inspect", "--format", "{{.Id}}", &sidecar]).unwrap();
    docker_cli(&["kill", &master]).expect("kill the master");
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let now = docker_cli(&[
            "inspect",
            "--format",
            "{{.Id}} {{.State.Running}}",
            &sidecar,
        ]);
        if now
            .as_deref()
            .is_some_and(|n| !n.starts_with(sidecar_id.trim()) && n.trim().ends_with("true"))
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the sidecar was not replaced after the master restarted: {now:?}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert_eq!(read_from(port).await, "written-by-master");
    delete_and_check_clean(&server, &id, &mut t).await;

    // gpus: the planned device request reaches Docker; a daemon without a
    // GPU driver refuses to start the container, and that is an event and a
    // `failed` deployment (the server keeps serving)
    let (s, v, raw) = post_spec(&server, GPUS).await;
    assert_eq!(s, 202, "{raw}");
    let id = v["id"].as_str().unwrap().to_owned();
    let _cleanup2 = Cleanup(format!("org.specstudio.deployment={id}"));
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let v = server.get(&id, &mut t).await;
        if v["status"] == "failed" {
            let m = v["message"].as_str().unwrap_or_default();
            assert!(
                m.contains(&format!("creating ss-{id}-trainer-0")) && m.contains("[[gpu]]"),
                "Docker's reason in the view: {v}"
            );
            break;
        }
        assert_ne!(v["status"], "running", "no GPU here: {v}");
        assert!(Instant::now() < deadline, "not failed in time: {v}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let trainer = format!("ss-{id}-trainer-0");
    let requests = docker_cli(&[
        "inspect",
        "--format",
        "{{json .HostConfig.DeviceRequests}}",
        &trainer,
    ]);
    assert!(
        requests
            .as_deref()
            .is_some_and(|r| r.contains(r#""Count":-1"#) && r.contains(r#"[["gpu"]]"#)),
        "{requests:?}"
    );
    let events = server.events(&id, 5).await;
    assert!(
        events.contains(r#""kind":"error""#) && events.contains("[[gpu]]"),
        "Docker's reason in the events: {events}"
    );
    let (s, _, _) = server.call("GET", "/healthz", None, false).await;
    assert_eq!(s, 200, "the server keeps serving");
    delete_and_check_clean(&server, &id, &mut t).await;
}
