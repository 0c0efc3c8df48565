//! The endpoints' backend leg over `mysqld`'s Unix socket (issue 14), against
//! a real Docker daemon, the real server and the real `mysql` client.
//!
//! A `specstudio/mysql` container shares its socket directory with the host
//! and the endpoint talks to `mysqld` over it (the server sees the client as
//! `@localhost`, not as the Docker bridge address). The server runs as root
//! and `root@localhost` accepts MariaDB's `unix_socket` (peer uid) login, so
//! the endpoints connect as `nobody`: passwords must hold on the socket
//! exactly as on TCP, for the app user and for root, and a wrong or missing
//! password is refused.
//!
//! With `CI=true` a missing daemon, image or client fails the test; locally
//! it is skipped with a loud message.

// The std mutex serializes tests that each run their own runtime.
#![allow(clippy::await_holding_lock)]

mod common;

use std::process::Command;
use std::time::Duration;

use common::*;

/// The real `mysql` client through `127.0.0.1:port` as `user`; the password
/// travels in `MYSQL_PWD` (never argv). `None`: no password at all.
fn mysql_as(port: u16, user: &str, password: Option<&str>, sql: &str) -> (bool, String) {
    let mut cmd = Command::new("timeout");
    cmd.args(["60", "mysql", "--no-defaults", "-h", "127.0.0.1"])
        .args(["-P", &port.to_string(), "-u", user])
        .args(["--batch", "--skip-column-names", "-e", sql]);
    match password {
        Some(p) => cmd.env("MYSQL_PWD", p),
        None => cmd.env_remove("MYSQL_PWD"),
    };
    let out = cmd.output().expect("run mysql");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text.trim().to_owned())
}

/// A parameter's stored value (the generated root password).
fn stored_param(server: &Server, key: &str) -> String {
    let db = rusqlite::Connection::open(server.dir.join("data/specstudio.db")).unwrap();
    let raw: String = db
        .query_row("SELECT params FROM deployments", [], |r| r.get(0))
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(&raw).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .find(|p| p["key"] == key)
        .and_then(|p| p["value"].as_str())
        .unwrap_or_else(|| panic!("no stored parameter {key}"))
        .to_owned()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endpoint_reaches_mysqld_over_its_socket_and_passwords_hold() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if !docker_ready() || !tool_ready("mysql", "mariadb-client") {
        return;
    }
    if !require((!is_root()).then(|| {
        "the shared socket directory lives under root-only /run: run the tests as root".to_owned()
    })) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // the proxy's socket leg is what is tested: kernel forwarding (on by
    // default as root) would DNAT the clients past it (tests/kernel_forward.rs)
    let server = Server::start_with(
        dir.path(),
        &["--idle-stop-after", "600", "--kernel-forward", "off"],
    );
    let mut t = Transcript::default();
    let id = deploy(&server, 1, &mut t).await;
    let _cleanup = Cleanup(format!("org.specstudio.deployment={id}"));
    let v = wait_running(&server, &id, 1, &mut t).await;
    let master = service_endpoint(&v, "Master");
    let reader = service_endpoint(&v, "Replica");
    let root_pw = stored_param(&server, "mysqlRootPassword");
    let master_container = format!("ss-{id}-master-0");
    let socket_dir = std::path::Path::new("/run/specstudio/sockets").join(&master_container);
    assert!(
        socket_dir.join("mysqld.sock").exists(),
        "the master shares no socket at {}",
        socket_dir.display()
    );

    // only root and the connector's group pass through the socket root
    {
        use std::os::unix::fs::MetadataExt;
        let meta = std::fs::metadata("/run/specstudio/sockets").unwrap();
        assert_eq!(
            (meta.mode() & 0o777, meta.uid(), meta.gid()),
            (0o710, 0, 65534)
        );
    }

    let blocking = move || {
        // the app user and root, through the endpoint, over the socket
        let (ok, out) = mysql_as(master, "appuser", Some(APP_PASSWORD), "SELECT USER()");
        assert!(ok, "appuser through the Master endpoint: {out}");
        assert_eq!(out, "appuser@localhost", "not over the socket: {out}");
        let (ok, out) = mysql_as(master, "root", Some(&root_pw), "SELECT USER()");
        assert!(ok, "root through the Master endpoint: {out}");
        assert_eq!(out, "root@localhost", "not over the socket: {out}");
        // the replica's root arrived from the master by replication
        let (ok, out) = mysql_as(reader, "root", Some(&root_pw), "SELECT USER()");
        assert!(ok, "root through the Replica endpoint: {out}");
        assert_eq!(out, "root@localhost", "not over the socket: {out}");
        // wrong and missing passwords are refused: no peer-credential login
        for (user, pw) in [
            ("root", Some("wrong-password")),
            ("root", None),
            ("appuser", Some("wrong-password")),
            ("appuser", None),
            ("mysql", None),
        ] {
            for port in [master, reader] {
                let (ok, out) = mysql_as(port, user, pw, "SELECT USER()");
                assert!(
                    !ok,
                    "{user} with password {pw:?} logged in on port {port}: {out}"
                );
                assert!(out.contains("ERROR"), "{out}");
            }
        }
        // the published port (TCP, docker-proxy) still works for the same user
        root_pw
    };
    let root_pw = tokio::task::spawn_blocking(blocking).await.unwrap();
    let direct = v["containers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == master_container.as_str())
        .and_then(|c| c["hostPort"].as_u64())
        .unwrap_or_else(|| panic!("no hostPort for {master_container}: {v}"))
        as u16;
    let (ok, out) = tokio::task::spawn_blocking(move || {
        mysql_as(direct, "root", Some(&root_pw), "SELECT CURRENT_USER()")
    })
    .await
    .unwrap();
    assert!(ok, "root on the published port: {out}");
    assert_eq!(out, "root@%", "{out}");

    // counters still count bytes and connections over the socket leg
    let (s, _, raw) = server.call("GET", "/metrics", None, false).await;
    assert_eq!(s, 200, "{raw}");
    let sum = |name: &str| -> f64 {
        raw.lines()
            .filter(|l| l.starts_with(&format!("{name}{{")) && l.contains(&id))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    };
    assert!(
        sum("specstudio_endpoint_connections_total") >= 13.0,
        "{raw}"
    );
    assert!(sum("specstudio_endpoint_bytes_total") > 0.0, "{raw}");

    delete_and_check_clean(&server, &id, &mut t).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        !socket_dir.exists(),
        "the socket directory {} outlived the deployment",
        socket_dir.display()
    );
    // the replica's and the warm spare's too (removed by id, not by name)
    let prefix = format!("ss-{id}-");
    let left: Vec<String> = std::fs::read_dir("/run/specstudio/sockets")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with(&prefix))
        .collect();
    assert!(left.is_empty(), "socket directories left: {left:?}");
    assert_no_secrets("the server log", &server.logs(), &t.1);
}
