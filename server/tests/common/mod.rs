//! Helpers shared by the Docker end-to-end test binaries (`docker.rs`,
//! `serverless.rs`, `recovery.rs`, …): the test preamble ([`Session`]:
//! one at a time, Docker checked, a server, a guarded deployment, the
//! closing checks), the real server binary, the Docker CLI, labelled-object
//! bookkeeping, the MySQL probes, the SSE transcript and the secret checks.
//!
//! Each binary uses a subset, hence `dead_code`. `Server`'s Drop kills and
//! waits the child.
#![allow(dead_code, clippy::zombie_processes)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use specstudio::mysql::Conn;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

mod session;
#[allow(unused_imports)]
pub(crate) use session::{Deployed, Session};

pub(crate) const TOKEN: &str = "e2e-token-not-a-secret";
pub(crate) const IMAGE: &str = "specstudio/mysql:local";
pub(crate) const SEED: &str =
    include_str!("../../../examples/serverless-mysql-master-replica.yaml");
pub(crate) const APP_PASSWORD: &str = "AppPw-e2e-7fq2ZkX";

/// One test at a time per binary: tests count labelled Docker objects and the
/// machine has 2 cores. (Cargo runs test binaries one after another.)
pub(crate) static SERIAL: Mutex<()> = Mutex::new(());

pub(crate) fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// With `CI=true` a missing prerequisite fails the test; locally it is skipped
/// with a loud message. Returns `true` when the test may run.
pub(crate) fn require(problem: Option<String>) -> bool {
    match problem {
        None => true,
        Some(p) if ci() => panic!("CI=true and {p}: Docker end-to-end tests cannot run"),
        Some(p) => {
            eprintln!("\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!");
            eprintln!("!!! SKIPPING Docker end-to-end test: {p}");
            eprintln!("!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n");
            false
        }
    }
}

pub(crate) fn docker_cli(args: &[&str]) -> Option<String> {
    let out = Command::new("docker").args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// `true` when Docker and the image are here; panics in CI when not.
pub(crate) fn docker_ready() -> bool {
    let problem = if docker_cli(&["info", "--format", "{{.ServerVersion}}"]).is_none() {
        Some("the Docker daemon is not reachable (start dockerd)".to_owned())
    } else if docker_cli(&["image", "inspect", IMAGE]).is_none() {
        Some(format!(
            "image {IMAGE} is missing (build it with `bash images/mysql/build.sh`)"
        ))
    } else {
        None
    };
    require(problem)
}

/// `true` when the command-line `tool` runs (`tool --version`); panics in CI
/// when not, skips loudly locally.
pub(crate) fn tool_ready(tool: &str, package: &str) -> bool {
    let ok = Command::new(tool)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    require((!ok).then(|| format!("`{tool}` is missing (apt-get install {package})")))
}

pub(crate) fn labelled(kind: &str, label: &str) -> Vec<String> {
    let args: Vec<&str> = match kind {
        "container" => vec!["ps", "-a", "-q", "--filter"],
        "volume" => vec!["volume", "ls", "-q", "--filter"],
        _ => vec!["network", "ls", "-q", "--filter"],
    };
    let filter = format!("label={label}");
    let mut a = args.clone();
    a.push(&filter);
    docker_cli(&a)
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_owned)
        .collect()
}

/// Removes every object with `label` when dropped (also when a test panics).
pub(crate) struct Cleanup(pub String);

impl Drop for Cleanup {
    fn drop(&mut self) {
        let containers = labelled("container", &self.0);
        if !containers.is_empty() {
            let mut args = vec!["rm", "-f", "-v"];
            args.extend(containers.iter().map(String::as_str));
            docker_cli(&args);
        }
        for v in labelled("volume", &self.0) {
            docker_cli(&["volume", "rm", "-f", &v]);
        }
        for n in labelled("network", &self.0) {
            docker_cli(&["network", "rm", &n]);
        }
    }
}

pub(crate) fn all_labelled(label: &str) -> (usize, usize, usize) {
    (
        labelled("container", label).len(),
        labelled("volume", label).len(),
        labelled("network", label).len(),
    )
}

pub(crate) struct Server {
    child: Child,
    pub base: String,
    pub dir: PathBuf,
}

impl Server {
    pub(crate) fn start(dir: &Path) -> Server {
        Server::start_with(dir, &[])
    }

    /// `specstudio serve` on an ephemeral port with its data in `dir/data`,
    /// followed by `extra_args` (e.g. `["--idle-stop-after", "4"]`).
    pub(crate) fn start_with(dir: &Path, extra_args: &[&str]) -> Server {
        Server::start_env(dir, extra_args, &[])
    }

    /// [`Server::start_with`] with extra environment variables (e.g. the
    /// test-only fault point `SPECSTUDIO_CRASH_AT`).
    pub(crate) fn start_env(dir: &Path, extra_args: &[&str], env: &[(&str, &str)]) -> Server {
        std::fs::create_dir_all(dir).unwrap();
        let n = std::fs::read_dir(dir).unwrap().count();
        let out = std::fs::File::create(dir.join(format!("stdout-{n}.log"))).unwrap();
        let err = std::fs::File::create(dir.join(format!("stderr-{n}.log"))).unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_specstudio"))
            .args([
                "serve",
                "--addr",
                "127.0.0.1:0",
                "--dist-dir",
                "/nonexistent",
            ])
            .arg("--data-dir")
            .arg(dir.join("data"))
            .args([
                "--image-map",
                "docker.io/bitnami/mysql:*=specstudio/mysql:local",
            ])
            .args(extra_args)
            // the paused tier (default 60 s) off unless a test asks for it
            // with --idle-pause-after: existing tests keep their timings
            .env("SPECSTUDIO_IDLE_PAUSE_AFTER", "0")
            .env("SPECSTUDIO_TOKEN", TOKEN)
            .env("SPECSTUDIO_LOG", "info")
            .envs(env.iter().copied())
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err))
            .spawn()
            .expect("spawn the server");
        let stdout = dir.join(format!("stdout-{n}.log"));
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(f) = std::fs::File::open(&stdout) {
                for line in BufReader::new(f).lines().map_while(Result::ok) {
                    if let Some(addr) = line.strip_prefix("specstudio listening on ") {
                        return Server {
                            child,
                            base: addr.trim().to_owned(),
                            dir: dir.to_owned(),
                        };
                    }
                }
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!(
                    "the server exited ({status}) with args {extra_args:?}: {}",
                    std::fs::read_to_string(dir.join(format!("stderr-{n}.log")))
                        .unwrap_or_default()
                );
            }
            assert!(Instant::now() < deadline, "the server did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Wait (bounded) for the server to exit by itself; its exit status.
    pub(crate) fn wait_exit(&mut self, secs: u64) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        None
    }

    pub(crate) fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Everything the server printed so far.
    pub(crate) fn logs(&self) -> String {
        let mut out = String::new();
        for e in std::fs::read_dir(&self.dir).unwrap().flatten() {
            if e.path().extension().is_some_and(|x| x == "log") {
                out.push_str(&std::fs::read_to_string(e.path()).unwrap_or_default());
            }
        }
        out
    }

    pub(crate) async fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
        auth: bool,
    ) -> (u16, Value, String) {
        let hostport = self.base.trim_start_matches("http://").to_owned();
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {hostport}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n", body.len());
        if auth {
            req.push_str(&format!("Authorization: Bearer {TOKEN}\r\n"));
        }
        req.push_str("\r\n");
        req.push_str(&body);
        let mut s = tokio::net::TcpStream::connect(&hostport).await.unwrap();
        s.write_all(req.as_bytes()).await.unwrap();
        let mut buf = Vec::new();
        tokio::time::timeout(Duration::from_secs(30), s.read_to_end(&mut buf))
            .await
            .expect("response within 30 s")
            .unwrap();
        let text = String::from_utf8_lossy(&buf).into_owned();
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let status: u16 = head.split_whitespace().nth(1).unwrap().parse().unwrap();
        let v = serde_json::from_str(body).unwrap_or(Value::Null);
        (status, v, text)
    }

    /// `GET /api/deployments/{id}`, recorded in the transcript; must be 200.
    pub(crate) async fn get(&self, id: &str, t: &mut Transcript) -> Value {
        let (s, v, raw) = self
            .call("GET", &format!("/api/deployments/{id}"), None, false)
            .await;
        t.add(&raw);
        assert_eq!(s, 200, "{raw}");
        v
    }

    /// Read the SSE stream for `secs` seconds.
    pub(crate) async fn events(&self, id: &str, secs: u64) -> String {
        let hostport = self.base.trim_start_matches("http://").to_owned();
        let mut s = tokio::net::TcpStream::connect(&hostport).await.unwrap();
        let req = format!("GET /api/deployments/{id}/events HTTP/1.1\r\nHost: {hostport}\r\nAccept: text/event-stream\r\n\r\n");
        s.write_all(req.as_bytes()).await.unwrap();
        let mut buf = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(secs), s.read_to_end(&mut buf)).await;
        String::from_utf8_lossy(&buf).into_owned()
    }
}

impl Drop for Server {
    /// A graceful stop (SIGTERM, bounded), as a user's Ctrl-C: the server
    /// removes what it installed on the host (kernel-forwarding rules);
    /// SIGKILL only if it has not exited in time. Tests that crash the
    /// server on purpose call [`Server::kill`].
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = std::process::Command::new("kill")
                .args(["-TERM", &self.child.id().to_string()])
                .status();
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
            while std::time::Instant::now() < deadline {
                if let Ok(Some(_)) = self.child.try_wait() {
                    return;
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
        }
        self.kill();
    }
}

/// One server-sent event: its `event:` kind and the `message` of its data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Ev {
    pub kind: String,
    pub message: String,
}

/// The events of a raw SSE transcript (`Server::events`), in order. Each
/// `data:` line is the JSON of one stored event (`{seq, kind, message, …}`).
pub(crate) fn parse_events(raw: &str) -> Vec<Ev> {
    raw.lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .filter_map(|d| serde_json::from_str::<Value>(d.trim()).ok())
        .filter_map(|v| {
            Some(Ev {
                kind: v["kind"].as_str()?.to_owned(),
                message: v["message"].as_str()?.to_owned(),
            })
        })
        .collect()
}

/// The messages of the `status` events, in order.
pub(crate) fn statuses(events: &[Ev]) -> Vec<&str> {
    events
        .iter()
        .filter(|e| e.kind == "status")
        .map(|e| e.message.as_str())
        .collect()
}

/// Everything the test saw: searched for secrets at the end.
#[derive(Default)]
pub(crate) struct Transcript(pub String, pub Vec<String>);

impl Transcript {
    pub(crate) fn add(&mut self, s: &str) {
        self.0.push_str(s);
        self.0.push('\n');
    }

    /// Remember the secret values the server holds now (read from its DB).
    pub(crate) fn learn_secrets(&mut self, server: &Server) {
        for s in secrets_of(&server.dir) {
            if !self.1.contains(&s) {
                self.1.push(s);
            }
        }
    }
}

pub(crate) fn params(replicas: u32) -> Value {
    json!({
        "masterInstanceType": "t3.small",
        "replicaInstanceType": "e2-medium",
        "mysqlUsername": "appuser",
        "mysqlDatabase": "appdb",
        "mysqlPassword": APP_PASSWORD,
        "numReadReplicas": replicas,
    })
}

/// Deploy the seed spec with `replicas` read replicas.
pub(crate) async fn deploy(server: &Server, replicas: u32, t: &mut Transcript) -> String {
    deploy_spec(server, SEED, replicas, t).await
}

/// Deploy `spec` (the seed's parameters) with `replicas` read replicas.
pub(crate) async fn deploy_spec(
    server: &Server,
    spec: &str,
    replicas: u32,
    t: &mut Transcript,
) -> String {
    let (s, v, raw) = server
        .call(
            "POST",
            "/api/deployments",
            Some(json!({"spec": spec, "params": params(replicas)})),
            true,
        )
        .await;
    assert_eq!(s, 202, "{raw}");
    let generated = record_accepted(server, v.clone(), t);
    assert!(
        generated.get("mysqlPassword").is_none(),
        "given values are not echoed"
    );
    if spec.contains("key: mysqlRootPassword") {
        let root = generated["mysqlRootPassword"].as_str().unwrap_or_default();
        assert!(
            root.len() >= 16,
            "the generated root password is returned once: {generated}"
        );
    }
    v["id"].as_str().unwrap().to_owned()
}

/// Record a `202` deployment answer in the transcript. It is the one answer
/// that carries the generated secrets (shown once to the person deploying),
/// so they are taken out first, checked to be the values the server stored,
/// and returned.
pub(crate) fn record_accepted(server: &Server, mut v: Value, t: &mut Transcript) -> Value {
    let generated = v
        .as_object_mut()
        .and_then(|o| o.remove("generated"))
        .unwrap_or_default();
    t.add(&v.to_string());
    t.learn_secrets(server);
    for (key, value) in generated.as_object().into_iter().flatten() {
        let value = value.as_str().unwrap_or_default();
        assert!(
            t.1.iter().any(|s| s == value),
            "{key}: the returned value is the one deployed"
        );
    }
    generated
}

/// Poll until the deployment is `running` with `replicas` healthy replicas.
pub(crate) async fn wait_running(
    server: &Server,
    id: &str,
    replicas: usize,
    t: &mut Transcript,
) -> Value {
    wait_view(server, id, t, "running with its replicas healthy", |v| {
        let healthy = v["replication"]
            .as_array()
            .map(|r| r.iter().filter(|x| x["healthy"] == true).count());
        v["status"] == "running"
            && healthy == Some(replicas)
            && v["containers"].as_array().map(Vec::len) == Some(replicas + 1)
    })
    .await
}

/// Poll until the deployment's warm spares (`minimumNodesInPool` of an
/// autoscaled service) are all created and stopped: they are initialised
/// after the deployment reports `running`.
pub(crate) async fn wait_spares(
    server: &Server,
    id: &str,
    spares: usize,
    t: &mut Transcript,
) -> Value {
    wait_view(server, id, t, "spares warm", |v| {
        v["spares"].as_array().is_some_and(|list| {
            list.len() == spares
                && list
                    .iter()
                    .all(|c| c["state"] == "exited" || c["state"] == "created")
        })
    })
    .await
}

/// Poll `GET /api/deployments/{id}` (240 s at most) until `done`; a
/// `failed` status ends the wait at once.
pub(crate) async fn wait_view(
    server: &Server,
    id: &str,
    t: &mut Transcript,
    what: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + Duration::from_secs(240);
    loop {
        let (s, v, raw) = server
            .call("GET", &format!("/api/deployments/{id}"), None, false)
            .await;
        t.add(&raw);
        assert_eq!(s, 200, "{raw}");
        if done(&v) {
            return v;
        }
        assert_ne!(
            v["status"],
            "failed",
            "deployment failed: {raw}\n{}",
            server.logs()
        );
        assert!(
            Instant::now() < deadline,
            "not {what} in time: {raw}\n{}",
            server.logs()
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// The endpoint objects of `resource` with `kind` (`service` or `replica`).
pub(crate) fn endpoints_of<'a>(v: &'a Value, resource: &str, kind: &str) -> Vec<&'a Value> {
    v["endpoints"]
        .as_array()
        .unwrap_or_else(|| panic!("no endpoints array: {v}"))
        .iter()
        .filter(|e| e["resource"] == resource && e["kind"] == kind)
        .inspect(|e| assert_eq!(e["host"], "127.0.0.1", "{e}"))
        .collect()
}

fn port_of(e: &Value) -> u16 {
    e["port"]
        .as_u64()
        .and_then(|p| u16::try_from(p).ok())
        .unwrap_or_else(|| panic!("endpoint without a port: {e}"))
}

/// The ports of `resource`'s per-replica endpoints (`kind == "replica"`) when
/// it has any, else of its `service` endpoint(s).
pub(crate) fn endpoints(v: &Value, resource: &str) -> Vec<u16> {
    let replicas = endpoints_of(v, resource, "replica");
    let chosen = if replicas.is_empty() {
        endpoints_of(v, resource, "service")
    } else {
        replicas
    };
    chosen.into_iter().map(port_of).collect()
}

/// The port of `resource`'s stable `service` endpoint (for a replicated
/// service: the reader endpoint).
pub(crate) fn service_endpoint(v: &Value, resource: &str) -> u16 {
    let s = endpoints_of(v, resource, "service");
    assert_eq!(s.len(), 1, "one service endpoint for {resource}: {v}");
    port_of(s[0])
}

/// `(replica index, port)` of `resource`'s per-replica endpoints, sorted.
pub(crate) fn replica_endpoints(v: &Value, resource: &str) -> Vec<(u64, u16)> {
    let mut out: Vec<(u64, u16)> = endpoints_of(v, resource, "replica")
        .into_iter()
        .map(|e| {
            let r = e["replica"]
                .as_u64()
                .unwrap_or_else(|| panic!("replica endpoint without `replica`: {e}"));
            (r, port_of(e))
        })
        .collect();
    out.sort_unstable();
    out
}

/// Every endpoint as `(kind, resource, replica, port)`, sorted: what must not
/// change across stops, wakes and restarts.
pub(crate) fn endpoint_table(v: &Value) -> Vec<(String, String, Option<u64>, u16)> {
    let mut out: Vec<_> = v["endpoints"]
        .as_array()
        .unwrap_or_else(|| panic!("no endpoints array: {v}"))
        .iter()
        .map(|e| {
            (
                e["kind"].as_str().unwrap_or("?").to_owned(),
                e["resource"].as_str().unwrap_or("?").to_owned(),
                e["replica"].as_u64(),
                port_of(e),
            )
        })
        .collect();
    out.sort();
    out
}

pub(crate) async fn app_conn(port: u16) -> Conn {
    app_conn_within(port, Duration::from_secs(5)).await
}

/// A connection as `appuser`, allowed `limit` (a wake may hold it).
pub(crate) async fn app_conn_within(port: u16, limit: Duration) -> Conn {
    Conn::connect(
        "127.0.0.1",
        port,
        "appuser",
        APP_PASSWORD,
        Some("appdb"),
        limit,
    )
    .await
    .unwrap_or_else(|e| panic!("connect as appuser to 127.0.0.1:{port} within {limit:?}: {e}"))
}

/// Insert rows `from..to` into `t` on the master, then close the connection.
pub(crate) async fn write_rows(master: u16, from: u32, to: u32) {
    let mut c = app_conn(master).await;
    c.query("CREATE TABLE IF NOT EXISTS t (id INT PRIMARY KEY, v VARCHAR(40))")
        .await
        .unwrap();
    for i in from..to {
        c.query(&format!("INSERT INTO t VALUES ({i}, 'row-{i}')"))
            .await
            .unwrap();
    }
    c.close().await;
}

/// `SELECT COUNT(*)` of `t`, when it answers.
pub(crate) async fn count_rows(c: &mut Conn) -> Option<usize> {
    let set = c
        .query_timeout("SELECT COUNT(*) AS n FROM t", Duration::from_secs(10))
        .await
        .ok()?;
    set.get(0, "n").and_then(|s| s.parse::<usize>().ok())
}

pub(crate) async fn wait_rows(port: u16, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let mut c = app_conn(port).await;
        let got = count_rows(&mut c).await;
        c.close().await;
        if got == Some(n) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "replica on {port} did not get {n} rows"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

pub(crate) async fn delete_and_check_clean(server: &Server, id: &str, t: &mut Transcript) {
    let (s, _, raw) = server
        .call("DELETE", &format!("/api/deployments/{id}"), None, true)
        .await;
    t.add(&raw);
    assert_eq!(s, 202, "{raw}");
    // a swarm removes its services one by one and their tasks go
    // asynchronously: over a minute on a busy 2-core machine
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let (s, _, _) = server
            .call("GET", &format!("/api/deployments/{id}"), None, false)
            .await;
        if s == 404 {
            break;
        }
        assert!(Instant::now() < deadline, "delete did not finish");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let label = format!("org.specstudio.deployment={id}");
    assert_eq!(all_labelled(&label), (0, 0, 0), "objects left for {id}");
}

pub(crate) fn secrets_of(dir: &Path) -> Vec<String> {
    let db = rusqlite::Connection::open(dir.join("data/specstudio.db")).unwrap();
    let mut out = vec![APP_PASSWORD.to_owned()];
    let mut stmt = db.prepare("SELECT params FROM deployments").unwrap();
    let rows: Vec<String> = stmt
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for r in rows {
        let v: Value = serde_json::from_str(&r).unwrap();
        for p in v.as_array().unwrap() {
            if p["secret"] == true {
                out.push(p["value"].as_str().unwrap().to_owned());
            }
        }
    }
    out
}

/// The stored value of the deployment parameter `key` (secrets included:
/// a test may need the generated root password).
pub(crate) fn param_value(dir: &Path, id: &str, key: &str) -> String {
    let db = rusqlite::Connection::open(dir.join("data/specstudio.db")).unwrap();
    let params: String = db
        .query_row("SELECT params FROM deployments WHERE id = ?1", [id], |r| {
            r.get(0)
        })
        .unwrap();
    let v: Value = serde_json::from_str(&params).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .find(|p| p["key"] == key)
        .and_then(|p| p["value"].as_str())
        .unwrap_or_else(|| panic!("no parameter {key}"))
        .to_owned()
}

/// `PATCH /api/deployments/{id}` with `params`; must be `202`.
pub(crate) async fn patch_params(server: &Server, id: &str, params: Value, t: &mut Transcript) {
    let (s, _, raw) = server
        .call(
            "PATCH",
            &format!("/api/deployments/{id}"),
            Some(json!({ "params": params })),
            true,
        )
        .await;
    t.add(&raw);
    assert_eq!(s, 202, "{raw}");
}

pub(crate) fn assert_no_secrets(what: &str, text: &str, secrets: &[String]) {
    for s in secrets {
        assert!(
            !text.contains(s.as_str()),
            "a secret value appears in {what}"
        );
    }
}

/// The local MySQL image under another name: a plain container with `sh`
/// and `socat` for specs that test compose keys (the MySQL rules would ask
/// for root passwords).
pub(crate) const SLEEPER: &[&str] = &["--image-map", "e2e/sleeper:1=specstudio/mysql:local"];

/// `POST /api/deployments` of a spec without parameters, with the token.
pub(crate) async fn post_spec(server: &Server, spec: &str) -> (u16, Value, String) {
    server
        .call(
            "POST",
            "/api/deployments",
            Some(json!({"spec": spec, "params": {}})),
            true,
        )
        .await
}
