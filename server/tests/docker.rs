//! End-to-end tests against a real Docker daemon and the real server binary.
//!
//! Needs `dockerd` and the image `specstudio/mysql:local`
//! (`bash images/mysql/build.sh`). With `CI=true` a missing daemon or image
//! FAILS the tests; locally they are skipped with a loud message.
//!
//! The tests run one at a time (a global lock): they count labelled Docker
//! objects and the machine has 2 cores.

// The std mutex serializes tests that each run their own runtime; holding it
// across awaits is the point.
#![allow(clippy::await_holding_lock)]

mod common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use common::*;
use serde_json::json;
use tokio::io::AsyncReadExt;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_deploys_replicates_and_deletes_cleanly() {
    let Some(mut s) = Session::start(&[]) else {
        return;
    };
    let (d, v) = s.deploy_running(SEED, 2).await;
    let id = d.id.clone();
    let master = endpoints(&v, "Master");
    let replicas = endpoints(&v, "Replica");
    assert_eq!(master.len(), 1);
    assert_eq!(replicas.len(), 2, "one endpoint per replica: {v}");
    assert_eq!(v["params"]["mysqlUsername"], "appuser");
    assert!(v["params"].get("mysqlPassword").is_none());
    // every object is labelled: master, 2 replicas, 1 warm spare (the
    // seed's Replica autoscales with minimumNodesInPool: 1)
    let label = d.label.clone();
    s.wait_spares(&id, 1).await;
    assert_eq!(all_labelled(&label), (4, 4, 1));
    for c in labelled("container", &label) {
        let labels = docker_cli(&["inspect", "--format", "{{json .Config.Labels}}", &c]).unwrap();
        for l in [
            "org.specstudio.managed-by",
            "org.specstudio.resource",
            "org.specstudio.replica",
        ] {
            assert!(labels.contains(l), "{c}: {labels}");
        }
    }
    // each replica has its own s.server id
    let mut ids = BTreeSet::new();
    for port in master.iter().chain(&replicas) {
        let mut c = app_conn(*port).await;
        let set = c.query("SELECT @@server_id AS id").await.unwrap();
        ids.insert(set.get(0, "id").unwrap().to_owned());
    }
    assert_eq!(ids.len(), 3);
    // write on the master as MYSQL_USER, read on every replica
    write_rows(master[0], 0, 25).await;
    for port in &replicas {
        wait_rows(*port, 25).await;
        let mut c = app_conn(*port).await;
        let err = c
            .query("INSERT INTO t VALUES (1000, 'nope')")
            .await
            .unwrap_err();
        assert_eq!(
            err.code(),
            Some(1290),
            "replica write must be refused as read-only: {err}"
        );
    }
    // events: steps and log lines
    let events = s.events(&id, 2).await;
    for step in [
        "network ss-",
        "volume ss-",
        "started",
        "ready (SQL ping)",
        "replication verified",
        "event: log",
    ] {
        assert!(events.contains(step), "no `{step}` event");
    }
    // a container that vanishes is reported, then repaired with its data
    let victim = format!("ss-{id}-replica-1");
    docker_cli(&["rm", "-f", &victim]).expect("remove a replica");
    let (_, v, raw) = s
        .server
        .call("GET", &format!("/api/deployments/{id}"), None, false)
        .await;
    s.t.add(&raw);
    assert!(
        v["status"] == "degraded" || v["status"] == "provisioning",
        "a missing replica shows: {raw}"
    );
    let v = s.wait_running(&id, 2).await;
    for port in endpoints(&v, "Replica") {
        wait_rows(port, 25).await;
    }
    let events = s.events(&id, 1).await;
    assert!(events.contains(&format!("repairing: {victim} not running")));
    // the list (one query, no per-deployment probe) agrees with the view
    let (_, list, raw) = s.server.call("GET", "/api/deployments", None, false).await;
    s.t.add(&raw);
    let row = list
        .as_array()
        .and_then(|l| l.iter().find(|d| d["id"] == id.as_str()))
        .unwrap_or_else(|| panic!("listed: {raw}"));
    assert_eq!(row["status"], "running", "list status: {raw}");
    let containers = row["containers"].as_array().expect("containers listed");
    assert_eq!(containers.len(), 3, "master and 2 replicas: {raw}");
    for c in containers {
        assert_eq!(c["state"], "running", "listed container state: {raw}");
    }
    let secrets = secrets_of(s.path());
    assert!(secrets.len() >= 2, "generated root password is stored");
    s.t.1.extend(secrets);
    s.finish(&id).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scale_replicas_1_3_1_new_replicas_catch_up() {
    let Some(mut s) = Session::start(&[]) else {
        return;
    };
    let (d, v) = s.deploy_running(SEED, 1).await;
    let id = d.id.clone();
    let master = endpoints(&v, "Master")[0];
    write_rows(master, 0, 10).await;

    s.patch(&id, json!({"numReadReplicas": 3})).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let v = s.wait_running(&id, 3).await;
    assert_eq!(
        endpoints(&v, "Master"),
        vec![master],
        "the master is untouched"
    );
    let replicas = endpoints(&v, "Replica");
    assert_eq!(replicas.len(), 3);
    for port in &replicas {
        wait_rows(*port, 10).await;
    }
    write_rows(master, 10, 15).await;
    for port in &replicas {
        wait_rows(*port, 15).await;
    }
    let label = d.label.clone();
    s.wait_spares(&id, 1).await;
    assert_eq!(
        all_labelled(&label),
        (5, 5, 1),
        "3 replicas + master + spare"
    );

    s.patch(&id, json!({"numReadReplicas": 1})).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let v = s.wait_running(&id, 1).await;
    let replicas = endpoints(&v, "Replica");
    assert_eq!(replicas.len(), 1);
    wait_rows(replicas[0], 15).await;
    // replica 1 is the warm spare now; replicas 2 and 3 are gone
    let v = s.wait_spares(&id, 1).await;
    assert_eq!(v["spares"][0]["name"], format!("ss-{id}-replica-1"), "{v}");
    assert_eq!(
        all_labelled(&label),
        (3, 3, 1),
        "scaled-down replicas beyond the spare leave no volume"
    );
    // a settings change recreates the master on its volume and its port
    s.patch(&id, json!({"masterInstanceType": "e2-standard-2"}))
        .await;
    let v = s.wait_running(&id, 1).await;
    assert_eq!(
        endpoints(&v, "Master"),
        vec![master],
        "the master keeps its port"
    );
    let memory = docker_cli(&[
        "inspect",
        "--format",
        "{{.HostConfig.Memory}}",
        &format!("ss-{id}-master-0"),
    ])
    .unwrap();
    assert_eq!(
        memory.trim(),
        (8u64 << 30).to_string(),
        "e2-standard-2 = 8 GiB"
    );
    write_rows(master, 15, 20).await;
    wait_rows(endpoints(&v, "Replica")[0], 20).await;
    s.finish(&id).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_spec_or_params_create_no_docker_object() {
    let Some(s) = Session::start(&[]) else {
        return;
    };
    // objects this server would create carry its instance label (other
    // processes may use the same daemon meanwhile)
    let instance = std::fs::read_to_string(s.path().join("data/instance-id")).unwrap();
    let mine = format!("org.specstudio.instance={}", instance.trim());
    let mut bad_type = params(1);
    bad_type["numReadReplicas"] = json!("lots");
    let mut bad_instance = params(1);
    bad_instance["masterInstanceType"] = json!("q7.enormous");
    let mut unknown = params(1);
    unknown["surprise"] = json!(true);
    let cases = [
        json!({"spec": "services:\n  Web:\n    image: nginx\n    ports: 80\n  X: [\n", "params": {}}),
        json!({"spec": SEED, "params": {}}),
        json!({"spec": SEED, "params": bad_type}),
        json!({"spec": SEED, "params": bad_instance}),
        json!({"spec": SEED, "params": unknown}),
        json!({"spec": "services:\n  Web:\n    image: nginx\n    ports:\n      - '80'\n    environment:\n      - OWNER=$sys.tenant.email\n"}),
    ];
    for body in cases {
        let (code, v, raw) = s
            .server
            .call("POST", "/api/deployments", Some(body), true)
            .await;
        assert_eq!(code, 422, "{raw}");
        assert!(v["error"]["code"].is_string());
    }
    // an image that is neither local nor pullable: 422 naming the build script
    let missing = "services:\n  Db:\n    image: docker.io/specstudio-test/definitely-missing:0\n    ports:\n      - '3306'\n";
    let (code, v, raw) = s
        .server
        .call(
            "POST",
            "/api/deployments",
            Some(json!({"spec": missing})),
            true,
        )
        .await;
    assert_eq!(code, 422, "{raw}");
    assert_eq!(v["error"]["code"], "image_unavailable");
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .contains("images/mysql/build.sh"));
    let (_, v, _) = s.server.call("GET", "/api/deployments", None, false).await;
    assert_eq!(v, json!([]));
    assert_eq!(
        all_labelled(&mine),
        (0, 0, 0),
        "a rejected request created Docker objects"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_during_provisioning_converges_after_restart() {
    let Some(mut s) = Session::start(&[]) else {
        return;
    };
    let d = s.deploy(SEED, 2).await;
    let id = d.id.clone();
    let label = d.label.clone();
    // kill as soon as the first container exists
    let deadline = Instant::now() + Duration::from_secs(60);
    while labelled("container", &label).is_empty() {
        assert!(Instant::now() < deadline, "no container was created");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    s.server.kill();
    let status: String = rusqlite::Connection::open(s.path().join("data/specstudio.db"))
        .unwrap()
        .query_row("SELECT status FROM deployments WHERE id = ?1", [&id], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(status, "provisioning", "killed mid-provisioning");
    // orphans: a labelled object of this s.server that no record owns…
    let instance = std::fs::read_to_string(s.path().join("data/instance-id")).unwrap();
    let instance_label = format!("org.specstudio.instance={}", instance.trim());
    let volume = |labels: &[&str], name: &str| {
        let mut args = vec![
            "volume",
            "create",
            "--label",
            "org.specstudio.managed-by=specstudio",
        ];
        for l in labels {
            args.push("--label");
            args.push(l);
        }
        args.push(name);
        docker_cli(&args).expect("create a labelled volume");
    };
    let orphan = format!("dorphan{}", instance.trim());
    let orphan_label = format!("org.specstudio.deployment={orphan}");
    let _c1 = Cleanup(orphan_label.clone());
    let _c2 = Cleanup("org.specstudio.deployment=dforeign0000".into());
    volume(&[&instance_label, &orphan_label], &format!("ss-{orphan}-x"));
    // …and one of another s.server instance, which must be left alone
    volume(
        &[
            "org.specstudio.instance=someoneelse",
            "org.specstudio.deployment=dforeign0000",
        ],
        "ss-dforeign0000-x",
    );
    // and a vanished container of a known deployment
    if let Some(first) = labelled("container", &label).first() {
        docker_cli(&["rm", "-f", first]);
    }
    s.restart(&[], &[]);
    let v = s.wait_running(&id, 2).await;
    s.wait_spares(&id, 1).await;
    assert_eq!(all_labelled(&label), (4, 4, 1));
    // the orphan is kept and listed; removed only on request
    assert_eq!(
        labelled("volume", &orphan_label).len(),
        1,
        "an orphan's volume is never removed on the s.server's own initiative: {}",
        s.server.logs()
    );
    let (code, listed, raw) = s.server.call("GET", "/api/orphans", None, false).await;
    assert_eq!(code, 200, "{raw}");
    assert!(
        listed.to_string().contains(&orphan) && !listed.to_string().contains("dforeign"),
        "{raw}"
    );
    let (code, _, raw) = s
        .server
        .call("DELETE", &format!("/api/orphans/{orphan}"), None, true)
        .await;
    assert_eq!(code, 200, "{raw}");
    let (code, _, raw) = s
        .server
        .call("DELETE", &format!("/api/orphans/{id}"), None, true)
        .await;
    assert_eq!(
        code, 409,
        "a deployment with a record is not an orphan: {raw}"
    );
    assert!(
        labelled("volume", &orphan_label).is_empty(),
        "orphan not removed"
    );
    assert_eq!(
        labelled("volume", "org.specstudio.deployment=dforeign0000").len(),
        1,
        "another instance's object must be kept"
    );
    docker_cli(&["volume", "rm", "ss-dforeign0000-x"]);
    let master = endpoints(&v, "Master")[0];
    write_rows(master, 0, 3).await;
    for port in endpoints(&v, "Replica") {
        wait_rows(port, 3).await;
    }
    assert!(s.t.1.len() >= 2, "generated root password is stored");
    s.finish(&id).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_during_provisioning_and_scale_while_starting() {
    let Some(mut s) = Session::start(&[]) else {
        return;
    };
    // a change while the first step still waits for readiness
    let d = s.deploy(SEED, 1).await;
    let id = d.id.clone();
    s.patch(&id, json!({"numReadReplicas": 2})).await;
    s.wait_running(&id, 2).await;
    delete_and_check_clean(&s.server, &id, &mut s.t).await;
    // a delete right after the create
    let d2 = s.deploy(SEED, 2).await;
    let id = d2.id.clone();
    tokio::time::sleep(Duration::from_millis(300)).await;
    s.finish(&id).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_container_that_cannot_start_fails_the_deployment_quickly() {
    let Some(mut s) = Session::start(&[]) else {
        return;
    };
    // `mysqlUsername: root` used to get this far; it is refused up front now
    let mut p = params(1);
    p["mysqlUsername"] = json!("root");
    let (code, v, raw) = s
        .server
        .call(
            "POST",
            "/api/deployments",
            Some(json!({"spec": SEED, "params": p})),
            true,
        )
        .await;
    assert_eq!(code, 422, "{raw}");
    assert_eq!(v["error"]["code"], "invalid_params", "{raw}");
    // a container whose entrypoint fails: a `_FILE` variable naming no file
    let line = "      - MYSQL_ROOT_PASSWORD=$parameterGroup.var.mysqlRootPassword\n";
    assert_eq!(SEED.matches(line).count(), 1);
    let spec = SEED.replace(
        line,
        &format!("{line}      - MYSQL_DATABASE_FILE=/nonexistent/db-name\n"),
    );
    let (code, v, raw) = s
        .server
        .call(
            "POST",
            "/api/deployments",
            Some(json!({"spec": spec, "params": params(1)})),
            true,
        )
        .await;
    assert_eq!(code, 202, "{raw}");
    let id = v["id"].as_str().unwrap().to_owned();
    s.t.learn_secrets(&s.server);
    let _d = Deployed::new(id.clone());
    let started = Instant::now();
    loop {
        let (_, v, raw) = s
            .server
            .call("GET", &format!("/api/deployments/{id}"), None, false)
            .await;
        s.t.add(&raw);
        if v["status"] == "failed" {
            let message = v["message"].as_str().unwrap();
            assert!(
                message.contains("MYSQL_DATABASE_FILE points to"),
                "{message}"
            );
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "not failed in time: {raw}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    s.finish(&id).await;
}

/// A database and a service that must start after it is healthy
/// (`condition: service_healthy`), run through compose `entrypoint`/`command`
/// with templates: at its start it records whether the database already
/// accepts connections, then serves that line over TCP.
const ORDERED: &str = r#"services:
  Echo:
    image: docker.io/bitnami/mysql:8.1.0
    ports:
      - '7000'
    depends_on:
      Db:
        condition: service_healthy
    environment:
      - MYSQL_ROOT_PASSWORD=$db.var.rootPassword
    entrypoint: ["bash", "-c"]
    command:
      - |
        if (exec 3<>/dev/tcp/{{ $db.sys.network.internalClusterEndpoint }}/{{ $db.sys.network.externalClusterServerlessEndpoint.openPorts[0] }}) 2>/dev/null; then echo "db up at {{ $db.sys.network.internalClusterEndpoint }}:{{ $db.sys.network.externalClusterServerlessEndpoint.openPorts[0] }} in {{ $sys.id }}"; else echo "db down"; fi > /tmp/reply
        exec socat TCP-LISTEN:7000,reuseaddr,fork SYSTEM:"cat /tmp/reply"
  Db:
    image: docker.io/bitnami/mysql:8.1.0
    ports:
      - '3306'
    environment:
      - MYSQL_ROOT_PASSWORD=$var.rootPassword
    x-omnistrate-api-params:
      - key: rootPassword
        description: Root password
        name: Root password
        type: Password
        modifiable: false
        required: true
        export: false
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn depends_on_orders_starts_and_command_entrypoint_apply() {
    let Some(mut s) = Session::start(&[]) else {
        return;
    };
    let report = shared::analyze(ORDERED);
    assert!(!report.has_errors(), "{:?}", report.diagnostics);
    let (code, v, raw) = s
        .server
        .call(
            "POST",
            "/api/deployments",
            Some(json!({"spec": ORDERED, "params": {}})),
            true,
        )
        .await;
    assert_eq!(code, 202, "{raw}");
    let generated = record_accepted(&s.server, v.clone(), &mut s.t);
    assert!(
        generated["rootPassword"]
            .as_str()
            .is_some_and(|p| p.len() >= 16),
        "the generated root password is returned once: {generated}"
    );
    let id = v["id"].as_str().unwrap().to_owned();
    let _d = Deployed::new(id.clone());
    let deadline = Instant::now() + Duration::from_secs(240);
    let v = loop {
        let (code, v, raw) = s
            .server
            .call("GET", &format!("/api/deployments/{id}"), None, false)
            .await;
        s.t.add(&raw);
        assert_eq!(code, 200, "{raw}");
        if v["status"] == "running" && v["containers"].as_array().unwrap().len() == 2 {
            break v;
        }
        assert_ne!(v["status"], "failed", "{raw}\n{}", s.server.logs());
        assert!(Instant::now() < deadline, "not running: {raw}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    // the command ran with its templates resolved, after the database was up
    let echo = endpoints(&v, "Echo")[0];
    let deadline = Instant::now() + Duration::from_secs(30);
    let reply = loop {
        let mut line = String::new();
        if let Ok(mut conn) = tokio::net::TcpStream::connect(("127.0.0.1", echo)).await {
            let _ =
                tokio::time::timeout(Duration::from_secs(3), conn.read_to_string(&mut line)).await;
        }
        if !line.trim().is_empty() {
            break line;
        }
        assert!(Instant::now() < deadline, "Echo never answered");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(reply.trim(), format!("db up at db:3306 in {id}"));
    // Docker got the compose entrypoint and command
    let name = format!("ss-{id}-echo-0");
    let entrypoint =
        docker_cli(&["inspect", "--format", "{{json .Config.Entrypoint}}", &name]).unwrap();
    assert_eq!(entrypoint.trim(), r#"["bash","-c"]"#);
    let cmd: Vec<String> = serde_json::from_str(
        &docker_cli(&["inspect", "--format", "{{json .Config.Cmd}}", &name]).unwrap(),
    )
    .unwrap();
    assert_eq!(cmd.len(), 1);
    assert!(
        cmd[0].contains("/dev/tcp/db/3306") && cmd[0].contains(&id),
        "{cmd:?}"
    );
    // events: the database was ready before Echo was created
    let events = s.events(&id, 2).await;
    let ready = events
        .find(&format!("ss-{id}-db-0 ready (SQL ping)"))
        .expect("db ready event");
    let started = events
        .find(&format!("container ss-{id}-echo-0 started"))
        .expect("echo started event");
    assert!(ready < started, "Echo started before Db was ready");
    assert!(events.contains("starting Echo after Db ready"));
    assert!(s.t.1.len() >= 2, "the generated root password is stored");
    s.finish(&id).await;
}
