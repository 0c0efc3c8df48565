//! Endpoint tests: real listeners and real TCP servers on loopback.

use super::forward::connect_nonblocking;
use super::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

struct NoHooks(Mutex<Vec<String>>);
impl Hooks for NoHooks {
    fn wake(&self, deployment: &str, endpoint: &str) {
        self.0
            .lock()
            .unwrap()
            .push(format!("wake {deployment} {endpoint}"));
    }
    fn recheck(&self, _: &str, container: &str) {
        self.0.lock().unwrap().push(format!("recheck {container}"));
    }
    fn event(&self, _: &str, message: &str) {
        self.0.lock().unwrap().push(message.to_owned());
    }
}

/// A server that greets first, then echoes (like MySQL speaks first).
async fn greeter() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let (mut s, _) = l.accept().await.unwrap();
            tokio::spawn(async move {
                s.write_all(b"hello\n").await.unwrap();
                let mut buf = [0u8; 1024];
                loop {
                    match s.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => s.write_all(&buf[..n]).await.unwrap(),
                    }
                }
            });
        }
    });
    port
}

fn spec(name: &str, resource: &str, replica: Option<u32>) -> EndpointSpec {
    EndpointSpec {
        name: name.into(),
        resource: resource.into(),
        replica,
    }
}

async fn roundtrip(port: u16) -> String {
    let mut c = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let mut buf = [0u8; 6];
    c.read_exact(&mut buf).await.unwrap();
    c.write_all(b"ping").await.unwrap();
    let mut echo = [0u8; 4];
    c.read_exact(&mut echo).await.unwrap();
    format!(
        "{}{}",
        String::from_utf8_lossy(&buf),
        String::from_utf8_lossy(&echo)
    )
}

#[test]
fn unix_connect_is_non_blocking_and_checked() {
    use std::io::{Read, Write};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mysqld.sock");
    let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
    let mut client = connect_nonblocking(&path).unwrap();
    let (mut server, _) = listener.accept().unwrap();
    server.write_all(b"hi").unwrap();
    client.set_nonblocking(false).unwrap();
    let mut buf = [0u8; 2];
    client.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"hi");
    // nobody listens: refused at once, not hung
    drop(listener);
    assert!(connect_nonblocking(&path).is_err());
    assert!(connect_nonblocking(&dir.path().join("missing.sock")).is_err());
    let long = dir.path().join("x".repeat(200));
    assert!(connect_nonblocking(&long).is_err());
}

#[tokio::test]
async fn splices_counts_and_keeps_its_port() {
    let store = MemoryPorts::default();
    let eps = Endpoints::new("127.0.0.1", "127.0.0.1", EndpointSettings::default());
    let hooks = Arc::new(NoHooks(Mutex::new(Vec::new())));
    let backend = greeter().await;
    let net = eps.net("d1");
    net.set_backend("c0", "Db", 0, Some(backend), true);
    eps.sync("d1", &[spec("Db", "Db", None)], &store, hooks.clone())
        .await
        .unwrap();
    let l = net.listeners().pop().unwrap();
    let port = l.port;
    assert_eq!(roundtrip(port).await, "hello\nping");
    // counters settle when the connection ends
    for _ in 0..100 {
        if net.active.load(Ordering::Relaxed) == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(l.connections.load(Ordering::Relaxed), 1);
    assert_eq!(l.bytes_in.load(Ordering::Relaxed), 4);
    assert_eq!(l.bytes_out.load(Ordering::Relaxed), 10);
    assert_eq!(net.active.load(Ordering::Relaxed), 0);
    // closed and reopened (a server restart): the same port
    eps.remove("d1");
    drop(l);
    eps.sync("d1", &[spec("Db", "Db", None)], &store, hooks.clone())
        .await
        .unwrap();
    assert_eq!(eps.net("d1").listeners()[0].port, port);
    assert_eq!(store.port("d1", "Db").unwrap(), Some(port));
}

#[tokio::test]
async fn holds_a_client_until_a_backend_is_routable_and_wakes_a_sleeper() {
    let store = MemoryPorts::default();
    let eps = Endpoints::new("127.0.0.1", "127.0.0.1", EndpointSettings::default());
    let hooks = Arc::new(NoHooks(Mutex::new(Vec::new())));
    let backend = greeter().await;
    let net = eps.net("d2");
    net.set_power(Power::Asleep);
    net.set_backend("c0", "Db", 0, Some(backend), false);
    eps.sync("d2", &[spec("Db", "Db", None)], &store, hooks.clone())
        .await
        .unwrap();
    let port = net.listeners()[0].port;
    let client = tokio::spawn(roundtrip(port));
    // the client is held and asked for a wake
    for _ in 0..200 {
        if hooks.0.lock().unwrap().iter().any(|m| m == "wake d2 Db") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(net.power(), Power::Waking);
    assert!(!client.is_finished());
    net.set_power(Power::Awake);
    net.set_routable("c0", true);
    assert_eq!(client.await.unwrap(), "hello\nping");
    assert_eq!(
        hooks
            .0
            .lock()
            .unwrap()
            .iter()
            .filter(|m| m.starts_with("wake"))
            .count(),
        1
    );
}

#[tokio::test]
async fn balances_over_replicas_and_skips_draining_ones() {
    let store = MemoryPorts::default();
    let eps = Endpoints::new("127.0.0.1", "127.0.0.1", EndpointSettings::default());
    let hooks = Arc::new(NoHooks(Mutex::new(Vec::new())));
    let (a, b) = (greeter().await, greeter().await);
    let net = eps.net("d3");
    net.set_backend("r0", "Replica", 0, Some(a), true);
    net.set_backend("r1", "Replica", 1, Some(b), true);
    eps.sync(
        "d3",
        &[
            spec("Replica", "Replica", None),
            spec("Replica-1", "Replica", Some(1)),
        ],
        &store,
        hooks.clone(),
    )
    .await
    .unwrap();
    let reader = net
        .listeners()
        .into_iter()
        .find(|l| l.spec.replica.is_none())
        .unwrap();
    // two open clients land on two replicas
    let mut open = Vec::new();
    for _ in 0..2 {
        let mut c = TcpStream::connect(("127.0.0.1", reader.port))
            .await
            .unwrap();
        let mut buf = [0u8; 6];
        c.read_exact(&mut buf).await.unwrap();
        open.push(c);
    }
    assert_eq!(net.backend_active("r0"), 1);
    assert_eq!(net.backend_active("r1"), 1);
    // a draining replica takes no new client
    assert_eq!(net.drain("r1"), 1);
    let mut c = TcpStream::connect(("127.0.0.1", reader.port))
        .await
        .unwrap();
    let mut buf = [0u8; 6];
    c.read_exact(&mut buf).await.unwrap();
    assert_eq!(net.backend_active("r0"), 2);
    drop(open);
    drop(c);
}

#[tokio::test]
async fn a_dead_backend_is_skipped_and_rechecked() {
    let store = MemoryPorts::default();
    let eps = Endpoints::new("127.0.0.1", "127.0.0.1", EndpointSettings::default());
    let hooks = Arc::new(NoHooks(Mutex::new(Vec::new())));
    let good = greeter().await;
    // a port nobody listens on
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let net = eps.net("d4");
    net.set_backend("r0", "Replica", 0, Some(dead), true);
    net.set_backend("r1", "Replica", 1, Some(good), true);
    eps.sync(
        "d4",
        &[spec("Replica", "Replica", None)],
        &store,
        hooks.clone(),
    )
    .await
    .unwrap();
    let port = net.listeners()[0].port;
    for _ in 0..4 {
        assert_eq!(roundtrip(port).await, "hello\nping");
    }
    assert!(hooks.0.lock().unwrap().iter().any(|m| m == "recheck r0"));
}
