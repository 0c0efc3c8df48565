//! The HTTP accept loop: `axum::serve` plus the limits it lacks. A client
//! must send a request's headers within `header_timeout` (this also bounds
//! an idle keep-alive connection: hyper starts the timer when it waits for
//! the next request), a body within `body_timeout` (the API's body
//! extractor), and at most `max_connections` connections are served at once
//! — past that a connection gets a short JSON `503` and is closed, with a
//! log line, so slow clients cannot exhaust the file descriptors. A
//! `GET /healthz` past the limit is still answered from a few spare slots,
//! so a probe sees a server under attack as alive.

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;
use tracing::{info, warn};

#[derive(Clone, Copy, Debug)]
pub struct HttpLimits {
    pub header_timeout: Duration,
    pub max_connections: usize,
}

impl Default for HttpLimits {
    fn default() -> Self {
        HttpLimits {
            header_timeout: Duration::from_secs(10),
            max_connections: 512,
        }
    }
}

/// The soft limit on open files of this process (Linux), when known.
pub fn open_files_limit() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = text.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// `wanted`, lowered so that connections leave room for the database,
/// Docker, endpoints and logs under the open-files limit.
pub fn connection_limit(wanted: usize, open_files: Option<u64>) -> usize {
    match open_files {
        Some(n) => wanted.min((n.saturating_sub(96) / 2) as usize).max(8),
        None => wanted,
    }
}

/// The answer to a connection past the limit.
fn busy_response() -> Vec<u8> {
    let body = r#"{"error":{"code":"unavailable","message":"too many open connections; retry shortly","details":null}}"#;
    format!(
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nConnection: close\r\nRetry-After: 1\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Connections past the limit that may still be served, if they ask for
/// `/healthz`.
const SPARE_SLOTS: usize = 16;
/// How long such a connection has to send its request line and headers.
const SPARE_DEADLINE: Duration = Duration::from_millis(500);

/// Whether the first bytes of `stream` (peeked, not consumed) are a
/// `GET /healthz` request line, waiting at most `deadline` for them.
async fn asks_for_health(stream: &tokio::net::TcpStream, deadline: Duration) -> bool {
    const LINE: &[u8] = b"GET /healthz";
    let look = async {
        let mut buf = [0u8; LINE.len() + 1];
        loop {
            let n = match stream.peek(&mut buf).await {
                Ok(0) | Err(_) => return false,
                Ok(n) => n,
            };
            if n == buf.len() {
                return buf.starts_with(LINE) && matches!(buf[LINE.len()], b' ' | b'?');
            }
            if !LINE.starts_with(&buf[..n.min(LINE.len())]) {
                return false;
            }
            // a prefix so far: wait for the rest
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    };
    tokio::time::timeout(deadline, look).await.unwrap_or(false)
}

/// Close a refused connection without a reset: send FIN, then read (and
/// drop) what the client is still sending for a moment. Closing with its
/// request unread would answer the client's next write with a reset, and
/// the reset can discard the `503` before the client reads it.
async fn linger(mut stream: tokio::net::TcpStream) {
    use tokio::io::AsyncReadExt;
    let _ = stream.shutdown().await;
    let drain = async {
        let mut buf = [0u8; 4096];
        let mut left: usize = 16 * 1024;
        while left > 0 {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => left = left.saturating_sub(n),
            }
        }
    };
    let _ = tokio::time::timeout(Duration::from_millis(500), drain).await;
}

/// Serve one connection with `app` until it closes, or gracefully once
/// `stop` turns true.
async fn serve_connection(
    stream: tokio::net::TcpStream,
    addr: std::net::SocketAddr,
    app: Router,
    header_timeout: Duration,
    keep_alive: bool,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    let svc = app.map_request(move |mut req: axum::http::Request<Incoming>| {
        req.extensions_mut().insert(ConnectInfo(addr));
        req.map(axum::body::Body::new)
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout)
        .keep_alive(keep_alive);
    let conn = builder
        .serve_connection(TokioIo::new(stream), TowerToHyperService::new(svc))
        .with_upgrades();
    let mut conn = pin!(conn);
    let stopping = tokio::select! {
        _ = conn.as_mut() => false,
        r = stop.wait_for(|s| *s) => r.is_ok(),
    };
    if stopping {
        conn.as_mut().graceful_shutdown();
        let _ = conn.await;
    }
}

/// Serve `app` on `listener` until `shutdown` resolves, then finish the
/// open requests (at most 10 s).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: HttpLimits,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let spares = Arc::new(Semaphore::new(SPARE_SLOTS));
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let refused = Arc::new(AtomicU64::new(0));
    let mut last_log: Option<Instant> = None;
    let mut shutdown = pin!(shutdown);
    info!(
        max_connections = limits.max_connections,
        header_timeout_secs = limits.header_timeout.as_secs(),
        "http limits"
    );
    loop {
        let (stream, addr) = tokio::select! {
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    // EMFILE and friends: back off instead of spinning
                    warn!("accepting a connection failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            let spare = spares.clone().try_acquire_owned().ok();
            let n = refused.fetch_add(1, Ordering::Relaxed) + 1;
            if last_log.is_none_or(|t| t.elapsed() > Duration::from_secs(5)) {
                last_log = Some(Instant::now());
                warn!(
                    limit = limits.max_connections,
                    refused_total = n,
                    "connection limit reached: refusing new connections with 503 until open ones finish"
                );
            }
            let app = app.clone();
            let stop = stop_rx.clone();
            tokio::spawn(async move {
                let mut stream = stream;
                // Past the limit, a health probe is still answered (on a
                // spare slot, one request, a short header deadline): the
                // connections that fill the server are the attack a probe
                // must see through.
                if let Some(spare) = spare {
                    if asks_for_health(&stream, SPARE_DEADLINE).await {
                        serve_connection(stream, addr, app, SPARE_DEADLINE, false, stop).await;
                        drop(spare);
                        return;
                    }
                }
                let _ = tokio::time::timeout(
                    Duration::from_secs(1),
                    stream.write_all(&busy_response()),
                )
                .await;
                linger(stream).await;
            });
            continue;
        };
        let app = app.clone();
        let stop = stop_rx.clone();
        let header_timeout = limits.header_timeout;
        tokio::spawn(async move {
            let _slot = slot;
            serve_connection(stream, addr, app, header_timeout, true, stop).await;
        });
    }
    let _ = stop_tx.send(true);
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    let _ = tokio::time::timeout(Duration::from_secs(10), slots.acquire_many(all)).await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_connection_limit_leaves_room_under_the_open_files_limit() {
        assert_eq!(connection_limit(512, None), 512);
        assert_eq!(connection_limit(512, Some(1_048_576)), 512);
        assert_eq!(connection_limit(512, Some(256)), 80);
        assert_eq!(connection_limit(512, Some(50)), 8);
        assert!(open_files_limit().is_some_and(|n| n > 0));
        let busy = busy_response();
        let head_end = busy.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
        let head = String::from_utf8_lossy(&busy[..head_end]);
        assert!(head.contains(&format!("Content-Length: {}", busy.len() - head_end)));
    }
}
