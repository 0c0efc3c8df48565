//! Slow and greedy clients against the real server binary (no Docker
//! needed: the server runs with an unreachable engine): header timeout,
//! connection limit, body timeout.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Server {
    child: Child,
    addr: String,
    dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(extra: &[&str]) -> Server {
    start_in(tempfile::tempdir().unwrap(), extra)
}

fn start_in(dir: tempfile::TempDir, extra: &[&str]) -> Server {
    let err = std::fs::File::create(dir.path().join("stderr.log")).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_specstudio"))
        .args([
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--dist-dir",
            "/nonexistent",
        ])
        .args(["--docker-host", "unix:///nonexistent/docker.sock"])
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .args(extra)
        .env("SPECSTUDIO_TOKEN", "t")
        .stdout(Stdio::piped())
        .stderr(Stdio::from(err))
        .spawn()
        .unwrap();
    let out = child.stdout.take().unwrap();
    let mut lines = BufReader::new(out).lines();
    let addr = loop {
        let line = lines.next().expect("server output").unwrap();
        if let Some(a) = line.strip_prefix("specstudio listening on http://") {
            break a.trim().to_owned();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    Server { child, addr, dir }
}

fn log(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("stderr.log")).unwrap_or_default()
}

/// Read until the peer closes (or `limit` passes): what it sent.
fn read_all(s: &mut TcpStream, limit: Duration) -> (String, bool) {
    s.set_read_timeout(Some(limit)).unwrap();
    let mut buf = Vec::new();
    let closed = s.read_to_end(&mut buf).is_ok();
    (String::from_utf8_lossy(&buf).into_owned(), closed)
}

fn healthz(addr: &str) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    read_all(&mut s, Duration::from_secs(10)).0
}

#[test]
fn incomplete_headers_are_cut_off_and_connections_are_limited() {
    let server = start(&["--header-timeout", "1", "--max-connections", "8"]);
    // a client that never finishes its headers is closed after the timeout
    let mut slow = TcpStream::connect(&server.addr).unwrap();
    write!(
        slow,
        "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: 1"
    )
    .unwrap();
    let started = Instant::now();
    let (_, closed) = read_all(&mut slow, Duration::from_secs(20));
    assert!(closed, "the incomplete request was not closed");
    assert!(started.elapsed() < Duration::from_secs(15));
    // 8 silent connections fill the server; the next one gets a JSON 503
    let idle: Vec<TcpStream> = (0..8)
        .map(|_| TcpStream::connect(&server.addr).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    let mut extra = TcpStream::connect(&server.addr).unwrap();
    let (resp, _) = read_all(&mut extra, Duration::from_secs(5));
    assert!(resp.starts_with("HTTP/1.1 503"), "{resp}");
    let body = resp.split("\r\n\r\n").nth(1).unwrap();
    let v: serde_json::Value = serde_json::from_str(body.trim()).unwrap();
    assert_eq!(v["error"]["code"], "unavailable");
    assert!(log(server.dir.path()).contains("connection limit reached"));
    // the silent ones time out, and everyone is served again
    std::thread::sleep(Duration::from_millis(1800));
    assert!(healthz(&server.addr).starts_with("HTTP/1.1 200"));
    drop(idle);
}

#[test]
fn an_idle_keep_alive_connection_is_closed() {
    let server = start(&["--header-timeout", "1"]);
    let mut s = TcpStream::connect(&server.addr).unwrap();
    write!(s, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
    let (resp, closed) = read_all(&mut s, Duration::from_secs(20));
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    assert!(closed, "kept open after its response while idle");
}

#[test]
fn an_event_stream_outlives_the_header_timeout() {
    use shared::params::ResolvedParams;
    use specstudio::store::{DeploymentRecord, Desired, Status, Store};
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("data")).unwrap();
    {
        let store = Store::open(&dir.path().join("data/specstudio.db")).unwrap();
        store
            .insert_deployment(&DeploymentRecord {
                id: "dsse".into(),
                spec_id: "s".into(),
                params: ResolvedParams { params: Vec::new() },
                desired: Desired::Running,
                status: Status::Failed,
                message: None,
                created_at: 0,
                updated_at: 0,
            })
            .unwrap();
    }
    let server = start_in(dir, &["--header-timeout", "1"]);
    let mut s = TcpStream::connect(&server.addr).unwrap();
    write!(
        s,
        "GET /api/deployments/dsse/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n"
    )
    .unwrap();
    // the stream is still open well past the header timeout
    let (resp, closed) = read_all(&mut s, Duration::from_secs(4));
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    assert!(!closed, "the event stream was cut: {resp}");
}
