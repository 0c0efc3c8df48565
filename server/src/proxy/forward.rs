//! Forwarding one client connection: accept, hold while no backend is
//! routable, pick a backend (balanced), connect over the container's shared
//! Unix socket or its published TCP port, then splice both ways, counting
//! bytes.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tracing::{debug, warn};

use super::{DeploymentNet, EndpointSettings, Hooks, Listener, Power};

/// A non-blocking std listener: registered later with the proxy thread's
/// reactor (a tokio listener belongs to the runtime that created it).
pub(super) fn bind_std(host: &str, port: u16) -> std::io::Result<std::net::TcpListener> {
    let l = std::net::TcpListener::bind((host, port))?;
    l.set_nonblocking(true)?;
    Ok(l)
}

pub(super) async fn accept_loop(
    listener: std::net::TcpListener,
    net: Arc<DeploymentNet>,
    info: std::sync::Weak<Listener>,
    hooks: Arc<dyn Hooks>,
    backend_host: String,
    settings: EndpointSettings,
) {
    let listener = match TcpListener::from_std(listener) {
        Ok(l) => l,
        Err(e) => {
            warn!(deployment = %net.id, "cannot serve an endpoint: {e}");
            return;
        }
    };
    loop {
        let (client, peer) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                // out of descriptors and the like: back off, keep listening
                warn!(deployment = %net.id, "accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Some(info) = info.upgrade() else { return };
        debug!(deployment = %net.id, endpoint = %info.spec.name, %peer, "client connected");
        let _ = client.set_nodelay(true);
        let conn = Connection::open(net.clone(), info);
        let hooks = hooks.clone();
        let backend_host = backend_host.clone();
        tokio::spawn(async move {
            conn.serve(client, hooks.as_ref(), &backend_host, settings)
                .await
        });
    }
}

/// One client connection: counted open from accept until it ends.
struct Connection {
    net: Arc<DeploymentNet>,
    listener: Arc<Listener>,
}

impl Connection {
    fn open(net: Arc<DeploymentNet>, listener: Arc<Listener>) -> Connection {
        net.active.fetch_add(1, Ordering::Relaxed);
        net.touch();
        listener.connections.fetch_add(1, Ordering::Relaxed);
        listener.active.fetch_add(1, Ordering::Relaxed);
        Connection { net, listener }
    }

    async fn serve(
        self,
        mut client: TcpStream,
        hooks: &dyn Hooks,
        backend_host: &str,
        settings: EndpointSettings,
    ) {
        let net = &self.net;
        let name = &self.listener.spec.name;
        let deadline = tokio::time::Instant::now() + settings.hold;
        let mut changes = net.changed.subscribe();
        let mut tried = BTreeSet::new();
        let mut held_since: Option<tokio::time::Instant> = None;
        loop {
            changes.borrow_and_update();
            if let Some((container, port, active)) = net.pick(&self.listener, &tried) {
                let Some(mut server) =
                    Upstream::connect(&container, backend_host, port, settings).await
                else {
                    tried.insert(container.clone());
                    hooks.recheck(&net.id, &container);
                    continue;
                };
                // The first bytes decide whether the backend really took the
                // connection (a published port accepts, then drops, while the
                // container restarts). A client that speaks first goes through.
                let mut first = vec![0u8; 16 * 1024];
                let first_len = tokio::select! {
                    r = server.read(&mut first) => match r {
                        Ok(0) | Err(_) => {
                            tried.insert(container.clone());
                            hooks.recheck(&net.id, &container);
                            continue;
                        }
                        Ok(n) => n,
                    },
                    _ = client.readable() => 0,
                };
                if let Some(since) = held_since {
                    debug!(deployment = %net.id, endpoint = %name, held_ms = since.elapsed().as_millis() as u64, "held client spliced");
                }
                active.fetch_add(1, Ordering::Relaxed);
                if first_len > 0 {
                    if client.write_all(&first[..first_len]).await.is_err() {
                        active.fetch_sub(1, Ordering::Relaxed);
                        return;
                    }
                    self.listener
                        .bytes_out
                        .fetch_add(first_len as u64, Ordering::Relaxed);
                }
                drop(first);
                splice(client, server, &self.listener).await;
                active.fetch_sub(1, Ordering::Relaxed);
                return;
            }
            // nothing routable: hold the client
            if held_since.is_none() {
                held_since = Some(tokio::time::Instant::now());
            }
            if matches!(net.power(), Power::Asleep | Power::Paused) && net.begin_wake() {
                hooks.wake(&net.id, name);
            }
            tokio::select! {
                r = changes.changed() => {
                    if r.is_err() {
                        return;
                    }
                    // a change may make a tried backend good again
                    tried.clear();
                }
                _ = tokio::time::sleep_until(deadline) => {
                    hooks.event(
                        &net.id,
                        &format!(
                            "endpoint {name}: a client waited {} s without a ready backend and was disconnected",
                            settings.hold.as_secs()
                        ),
                    );
                    return;
                }
                _ = client_gone(&client) => return,
                // retry tried backends now and then (a recheck may not notify)
                _ = tokio::time::sleep(Duration::from_millis(500)), if !tried.is_empty() => {
                    tried.clear();
                }
            }
        }
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.listener.active.fetch_sub(1, Ordering::Relaxed);
        self.net.active.fetch_sub(1, Ordering::Relaxed);
        self.net.touch();
    }
}

/// Resolves when a held client has hung up (it sent nothing yet, so EOF or
/// an error is all a readable socket can mean for a server-speaks-first
/// protocol; a client that sends data is left alone).
async fn client_gone(client: &TcpStream) {
    loop {
        if client.readable().await.is_err() {
            return;
        }
        let mut b = [0u8; 1];
        match client.peek(&mut b).await {
            Ok(0) | Err(_) => return,
            Ok(_) => std::future::pending::<()>().await,
        }
    }
}

/// The connection to a container: its `mysqld` socket when shared (no
/// loopback TCP, no docker-proxy between us and the server), else its port
/// published on the loopback address.
enum Upstream {
    Unix(tokio::net::UnixStream),
    Tcp(TcpStream),
}

impl Upstream {
    async fn connect(
        container: &str,
        backend_host: &str,
        port: u16,
        settings: EndpointSettings,
    ) -> Option<Upstream> {
        if settings.unix_backend {
            if let Some(path) = crate::docker::shared_socket(container) {
                let unix = tokio::time::timeout(settings.connect, connect_as_nobody(path)).await;
                match unix {
                    Ok(Ok(s)) => return Some(Upstream::Unix(s)),
                    // a stale socket (killed server), or no connector: the
                    // published port decides
                    other => debug!(%container, "shared socket refused ({other:?}); using TCP"),
                }
            }
        }
        let tcp =
            tokio::time::timeout(settings.connect, TcpStream::connect((backend_host, port))).await;
        let server = tcp.ok()?.ok()?;
        let _ = server.set_nodelay(true);
        Some(Upstream::Tcp(server))
    }

    async fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Upstream::Unix(s) => s.read(buf).await,
            Upstream::Tcp(s) => s.read(buf).await,
        }
    }
}

/// Whether a thawed backend answers: it accepts a connection (its shared
/// socket, else its published port) and, when it speaks first
/// (`greeting`: MySQL's handshake), sends its first bytes. Tried every few
/// milliseconds until `limit`; the probe connection is then closed.
pub(super) async fn answers(
    container: &str,
    backend_host: &str,
    port: u16,
    greeting: bool,
    settings: EndpointSettings,
    limit: Duration,
) -> bool {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let connect = Upstream::connect(container, backend_host, port, settings);
        if let Ok(Some(mut server)) = tokio::time::timeout_at(deadline, connect).await {
            if !greeting {
                return true;
            }
            // the whole handshake packet, so the close is a FIN, not a reset
            let mut first = [0u8; 512];
            match tokio::time::timeout_at(deadline, server.read(&mut first)).await {
                Ok(Ok(n)) if n > 0 => return true,
                Err(_) => return false,
                _ => {}
            }
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(3)).await;
    }
}

/// The uid the socket connector runs as (Debian's `nobody`); its group is
/// [`crate::docker::SOCKET_GROUP`], the only one let into the sockets.
const NOBODY: libc::uid_t = 65534;

type ConnectRequest = (
    std::path::PathBuf,
    tokio::sync::oneshot::Sender<std::io::Result<std::os::unix::net::UnixStream>>,
);

/// Connect to a shared `mysqld` socket from a thread running as `nobody`.
///
/// MariaDB's `unix_socket` plugin logs a client in by the uid of the process
/// on the other end of the socket (`root@localhost` has it), and the server
/// runs as root: a socket connected from an ordinary thread would let every
/// proxied client in as root without a password. The connector thread drops
/// its own credentials for good (raw `setresgid`/`setresuid` act on the
/// calling thread only; glibc's wrappers would change the whole process), so
/// the peer is `nobody`, which no account names: passwords hold on the socket
/// exactly as on TCP. Without that thread (not root, the drop failed) the
/// endpoints use TCP.
async fn connect_as_nobody(path: std::path::PathBuf) -> std::io::Result<tokio::net::UnixStream> {
    let Some(connector) = socket_connector() else {
        return Err(std::io::Error::other("no socket connector"));
    };
    let (tx, rx) = tokio::sync::oneshot::channel();
    connector
        .send((path, tx))
        .map_err(|_| std::io::Error::other("the socket connector ended"))?;
    let stream = rx
        .await
        .map_err(|_| std::io::Error::other("the socket connector ended"))??;
    tokio::net::UnixStream::from_std(stream)
}

/// A non-blocking `connect(2)` to a Unix socket: a server whose backlog is
/// full (or frozen) answers `EAGAIN` at once instead of stalling the
/// connector thread for every other endpoint.
pub(super) fn connect_nonblocking(
    path: &std::path::Path,
) -> std::io::Result<std::os::unix::net::UnixStream> {
    use std::os::fd::FromRawFd;
    use std::os::unix::ffi::OsStrExt;
    let bytes = path.as_os_str().as_bytes();
    // SAFETY: a zeroed sockaddr_un is valid; the path is bounds-checked
    // before it is copied in, and the fd is owned by the returned stream.
    unsafe {
        let mut addr: libc::sockaddr_un = std::mem::zeroed();
        if bytes.len() >= addr.sun_path.len() || bytes.contains(&0) {
            return Err(std::io::Error::other("socket path too long"));
        }
        addr.sun_family = libc::AF_UNIX as libc::sa_family_t;
        for (d, s) in addr.sun_path.iter_mut().zip(bytes) {
            *d = *s as libc::c_char;
        }
        let fd = libc::socket(
            libc::AF_UNIX,
            libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            0,
        );
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        let stream = std::os::unix::net::UnixStream::from_raw_fd(fd);
        let len = (std::mem::size_of::<libc::sa_family_t>() + bytes.len()) as libc::socklen_t;
        if libc::connect(fd, (&raw const addr).cast::<libc::sockaddr>(), len) != 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(stream)
    }
}

fn socket_connector() -> Option<&'static std::sync::mpsc::Sender<ConnectRequest>> {
    static CONNECTOR: std::sync::OnceLock<Option<std::sync::mpsc::Sender<ConnectRequest>>> =
        std::sync::OnceLock::new();
    CONNECTOR
        .get_or_init(|| {
            let (tx, rx) = std::sync::mpsc::channel::<ConnectRequest>();
            let (ready_tx, ready_rx) = std::sync::mpsc::channel();
            std::thread::Builder::new()
                .name("endpoint-socket-connector".into())
                .spawn(move || {
                    const GROUP: libc::gid_t = crate::docker::SOCKET_GROUP;
                    // SAFETY: plain syscalls on this thread's own credentials
                    let dropped = unsafe {
                        libc::syscall(libc::SYS_setgroups, 0, std::ptr::null::<libc::gid_t>()) == 0
                            && libc::syscall(libc::SYS_setresgid, GROUP, GROUP, GROUP) == 0
                            && libc::syscall(libc::SYS_setresuid, NOBODY, NOBODY, NOBODY) == 0
                            && libc::syscall(libc::SYS_geteuid) == NOBODY as libc::c_long
                    };
                    let _ = ready_tx.send(dropped);
                    if !dropped {
                        return;
                    }
                    for (path, reply) in rx {
                        let _ = reply.send(connect_nonblocking(&path));
                    }
                })
                .ok()?;
            match ready_rx.recv() {
                Ok(true) => Some(tx),
                _ => {
                    warn!("cannot connect to container sockets as nobody; endpoints use TCP");
                    None
                }
            }
        })
        .as_ref()
}

/// Copy both ways until both sides are done, counting bytes. When one side
/// ends, the other's write half is shut down so the peer sees the close.
async fn splice(client: TcpStream, server: Upstream, listener: &Listener) {
    match server {
        Upstream::Unix(s) => {
            let (r, w) = s.into_split();
            splice_halves(client, r, w, listener).await
        }
        Upstream::Tcp(s) => {
            let (r, w) = s.into_split();
            splice_halves(client, r, w, listener).await
        }
    }
}

async fn splice_halves<R, W>(
    client: TcpStream,
    mut server_read: R,
    mut server_write: W,
    listener: &Listener,
) where
    R: tokio::io::AsyncRead + Unpin,
    W: tokio::io::AsyncWrite + Unpin,
{
    let (mut client_read, mut client_write) = client.into_split();
    let up = copy_counting(&mut client_read, &mut server_write, &listener.bytes_in);
    let down = copy_counting(&mut server_read, &mut client_write, &listener.bytes_out);
    tokio::join!(up, down);
}

async fn copy_counting<R, W>(from: &mut R, to: &mut W, counter: &AtomicU64)
where
    R: tokio::io::AsyncRead + Unpin,
    W: tokio::io::AsyncWrite + Unpin,
{
    let mut buf = vec![0u8; 32 * 1024];
    loop {
        match from.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if to.write_all(&buf[..n]).await.is_err() {
                    break;
                }
                counter.fetch_add(n as u64, Ordering::Relaxed);
            }
        }
    }
    let _ = to.shutdown().await;
}
