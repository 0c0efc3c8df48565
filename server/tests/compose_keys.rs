//! Compose keys against a real Docker daemon: applied keys hold on the
//! container, refused keys and bad image references are `422` before any
//! Docker object exists, and an operator may allow a host-escaping key.

#![allow(clippy::await_holding_lock)]

mod common;

use common::*;

const APPLIED: &str = r#"services:
  Worker:
    image: e2e/sleeper:1
    entrypoint: ["sleep", "600"]
    mem_limit: 96m
    cpus: "0.5"
    user: "1000:1000"
    working_dir: /tmp
    stop_signal: SIGKILL
    stop_grace_period: 3s
    read_only: true
    tmpfs: /scratch
    init: true
    restart: "no"
    labels:
      com.example.team: e2e
    extra_hosts: ["db.internal:10.9.8.7"]
    ulimits:
      nofile: {soft: 512, hard: 1024}
    healthcheck:
      test: ["CMD", "true"]
      interval: 2s
      retries: 2
"#;

fn inspect(name: &str, format: &str) -> String {
    docker_cli(&["inspect", "--format", format, name])
        .unwrap_or_default()
        .trim()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn applied_keys_hold_and_refused_ones_are_422() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if !docker_ready() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_with(dir.path(), SLEEPER);
    let mut t = Transcript::default();
    let instance_label = || {
        let id = std::fs::read_to_string(dir.path().join("data/instance-id")).unwrap();
        format!("org.specstudio.instance={}", id.trim())
    };
    // refused before Docker is touched, naming the key and why
    for (spec, code, needle) in [
        (
            APPLIED.replace("    init: true\n", "    privileged: true\n"),
            "invalid_spec",
            "privileged",
        ),
        (
            APPLIED.replace("    init: true\n", "    network_mode: host\n"),
            "invalid_spec",
            "network_mode",
        ),
        (
            APPLIED.replace("image: e2e/sleeper:1", "image: \"UPPER/Case:1\""),
            "invalid_spec",
            "lower case",
        ),
        (
            APPLIED.replace("image: e2e/sleeper:1", "image: \"x@sha256:zz\""),
            "invalid_spec",
            "digest",
        ),
        (
            APPLIED.replace("com.example.team: e2e", "org.specstudio.deployment: dx"),
            "invalid_spec",
            "reserved",
        ),
    ] {
        let (s, v, raw) = post_spec(&server, &spec).await;
        assert_eq!(s, 422, "{raw}");
        assert_eq!(v["error"]["code"], code, "{raw}");
        assert!(raw.contains(needle), "{needle}: {raw}");
        assert!(!raw.contains("docker: docker"), "{raw}");
    }
    assert_eq!(
        all_labelled(&instance_label()),
        (0, 0, 0),
        "nothing created"
    );

    // applied: each key holds on the container
    let (s, v, raw) = post_spec(&server, APPLIED).await;
    assert_eq!(s, 202, "{raw}");
    let id = v["id"].as_str().unwrap().to_owned();
    let _cleanup = Cleanup(format!("org.specstudio.deployment={id}"));
    wait_view(&server, &id, &mut t, "running", |v| {
        v["status"] == "running"
    })
    .await;
    let name = format!("ss-{id}-worker-0");
    for (format, want) in [
        ("{{.HostConfig.Memory}}", (96 * 1024 * 1024).to_string()),
        ("{{.HostConfig.NanoCpus}}", "500000000".into()),
        ("{{.Config.User}}", "1000:1000".into()),
        ("{{.Config.WorkingDir}}", "/tmp".into()),
        ("{{.Config.StopSignal}}", "SIGKILL".into()),
        ("{{.Config.StopTimeout}}", "3".into()),
        ("{{.HostConfig.ReadonlyRootfs}}", "true".into()),
        ("{{json .HostConfig.Tmpfs}}", r#"{"/scratch":""}"#.into()),
        ("{{.HostConfig.Init}}", "true".into()),
        ("{{.HostConfig.RestartPolicy.Name}}", "no".into()),
        (
            r#"{{index .Config.Labels "com.example.team"}}"#,
            "e2e".into(),
        ),
        (
            "{{json .HostConfig.ExtraHosts}}",
            r#"["db.internal:10.9.8.7"]"#.into(),
        ),
        (
            "{{range .HostConfig.Ulimits}}{{.Name}}={{.Soft}}/{{.Hard}}{{end}}",
            "nofile=512/1024".into(),
        ),
        (
            "{{json .Config.Healthcheck.Test}}",
            r#"["CMD","true"]"#.into(),
        ),
        ("{{.Config.Healthcheck.Interval}}", "2s".into()),
    ] {
        assert_eq!(inspect(&name, format), want, "{format}");
    }
    // Docker runs the healthcheck the spec asked for
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while inspect(&name, "{{.State.Health.Status}}") != "healthy" {
        assert!(
            std::time::Instant::now() < deadline,
            "healthcheck never passed"
        );
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }
    delete_and_check_clean(&server, &id, &mut t).await;

    // no instance type, no limits in the spec: default limits
    let plain =
        "services:\n  Worker:\n    image: e2e/sleeper:1\n    entrypoint: [\"sleep\", \"600\"]\n";
    let (s, v, raw) = post_spec(&server, plain).await;
    assert_eq!(s, 202, "{raw}");
    let id = v["id"].as_str().unwrap().to_owned();
    let _cleanup2 = Cleanup(format!("org.specstudio.deployment={id}"));
    wait_view(&server, &id, &mut t, "running", |v| {
        v["status"] == "running"
    })
    .await;
    let name = format!("ss-{id}-worker-0");
    assert_eq!(
        inspect(&name, "{{.HostConfig.Memory}}"),
        (1u64 << 30).to_string()
    );
    assert_eq!(inspect(&name, "{{.HostConfig.PidsLimit}}"), "1024");
    assert_ne!(inspect(&name, "{{.HostConfig.NanoCpus}}"), "0");
    delete_and_check_clean(&server, &id, &mut t).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_may_allow_a_host_escaping_key() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if !docker_ready() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_with(
        dir.path(),
        &["--allow-host-key", "cap_add", SLEEPER[0], SLEEPER[1]],
    );
    let mut t = Transcript::default();
    let spec = "services:\n  Worker:\n    image: e2e/sleeper:1\n    entrypoint: [\"sleep\", \"600\"]\n    cap_add: [NET_ADMIN]\n    privileged: true\n";
    let (s, _, raw) = post_spec(&server, spec).await;
    assert_eq!(s, 422, "privileged is still refused: {raw}");
    assert!(
        raw.contains("privileged") && !raw.contains("`cap_add`"),
        "{raw}"
    );
    let (s, v, raw) = post_spec(&server, &spec.replace("    privileged: true\n", "")).await;
    assert_eq!(s, 202, "{raw}");
    let id = v["id"].as_str().unwrap().to_owned();
    let _cleanup = Cleanup(format!("org.specstudio.deployment={id}"));
    wait_view(&server, &id, &mut t, "running", |v| {
        v["status"] == "running"
    })
    .await;
    assert_eq!(
        inspect(&format!("ss-{id}-worker-0"), "{{json .HostConfig.CapAdd}}"),
        r#"["NET_ADMIN"]"#
    );
    delete_and_check_clean(&server, &id, &mut t).await;
}
