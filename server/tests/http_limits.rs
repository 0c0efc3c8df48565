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
    // at the limit, a health probe is still answered; other requests are not
    let (status, body) = call(&server.addr, "GET", "/healthz", b"");
    assert!(status.contains(" 200 "), "{status} {body}");
    let (status, _) = call(&server.addr, "GET", "/api/openapi.json", b"");
    assert!(status.contains(" 503 "), "{status}");
    let (status, _) = call(&server.addr, "GET", "/healthzz", b"");
    assert!(status.contains(" 503 "), "{status}");
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

/// One request with a body on its own connection: (status line, body).
fn call(addr: &str, method: &str, path: &str, body: &[u8]) -> (String, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .unwrap();
    s.write_all(body).unwrap();
    let (resp, _) = read_all(&mut s, Duration::from_secs(120));
    let (head, body) = resp.split_once("\r\n\r\n").unwrap_or((&resp, ""));
    (
        head.lines().next().unwrap_or("").to_owned(),
        body.to_owned(),
    )
}

/// The server's peak resident memory so far, in KiB (Linux).
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// Issue 15's amplification: 5 MiB of one-line mappings (436 k keys, one
/// diagnostic each) validated and stored. Unbounded, each request held the
/// whole tree and every diagnostic: ~360 MiB and seconds of CPU.
#[test]
fn a_huge_spec_costs_bounded_memory_and_gets_located_answers() {
    let server = start(&[]);
    let spec: String = (0..436_904).map(|i| format!("k{i:06}: {{}}\n")).collect();
    let (status, body) = call(&server.addr, "POST", "/api/validate", spec.as_bytes());
    assert!(status.contains(" 200 "), "{status} {body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let list = v["files"][0]["diagnostics"].as_array().unwrap();
    assert_eq!(list.len(), 1, "{body:.2000}");
    assert_eq!(list[0]["code"], shared::limits::BUDGET_CODE);
    assert_eq!(list[0]["severity"], "error");
    // located where the budget ran out, not at the top
    let line = list[0]["range"]["start"]["line"]
        .as_u64()
        .or_else(|| list[0]["line"].as_u64())
        .unwrap_or_else(|| panic!("no line in {}", list[0]));
    assert!(line > 1_000, "{}", list[0]);
    // storing it is refused: its secrets could not be found to mask them
    let (status, body) = call(&server.addr, "POST", "/api/specs", spec.as_bytes());
    assert!(status.contains(" 422 "), "{status} {body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["error"]["code"], "spec_too_large");
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .contains("reached on line"));
    // within the budget: checked, the list capped inside the core
    let spec: String = (0..60_000).map(|i| format!("k{i:05}: 1\n")).collect();
    let (status, body) = call(&server.addr, "POST", "/api/specs", spec.as_bytes());
    assert!(status.contains(" 201 "), "{status} {body}");
    let peak = peak_rss_kib(server.child.id());
    assert!(
        peak < 120 * 1024,
        "peak RSS {} MiB for bounded requests",
        peak / 1024
    );
    assert!(healthz(&server.addr).starts_with("HTTP/1.1 200"));
}
