//! Stable endpoints: TCP listeners the server owns in front of a
//! deployment's containers.
//!
//! Every service with a port gets one *service endpoint* (for a replica
//! service: the reader endpoint, balancing new connections over the
//! routable replicas); with `enableEndpointPerReplica` each replica also gets
//! its own. A listener's port is kept in the store and bound again after a
//! restart, so clients keep their address while containers come and go.
//!
//! A connection is spliced to a container's port published on the loopback
//! address. When no backend can take it (the deployment sleeps, wakes, or
//! a replica restarts) the client is *held*, not refused: the connection is
//! accepted and nothing is read from it until a backend is routable or the
//! hold times out. Held and open connections keep the deployment awake.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::AbortHandle;
use tracing::{debug, warn};

use crate::store::{now_ms, Store};

/// Whether a deployment's containers run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Power {
    Awake,
    Stopping,
    Asleep,
    Waking,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum EndpointKind {
    /// One per service: the master's endpoint, or a replica service's
    /// reader endpoint.
    Service,
    /// One per replica (`enableEndpointPerReplica`).
    Replica,
}

/// An endpoint the deployment should have.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct EndpointSpec {
    /// `Master`, `Replica` (reader), `Replica-1` (one replica).
    pub name: String,
    pub resource: String,
    /// `Some` for a per-replica endpoint.
    pub replica: Option<u32>,
}

impl EndpointSpec {
    pub fn kind(&self) -> EndpointKind {
        if self.replica.is_some() {
            EndpointKind::Replica
        } else {
            EndpointKind::Service
        }
    }
}

/// One listener with its traffic counters.
pub struct Listener {
    pub spec: EndpointSpec,
    pub port: u16,
    pub connections: AtomicU64,
    pub active: AtomicU64,
    /// Client → container bytes.
    pub bytes_in: AtomicU64,
    /// Container → client bytes.
    pub bytes_out: AtomicU64,
    next: AtomicUsize,
    task: Mutex<Option<AbortHandle>>,
}

impl Drop for Listener {
    fn drop(&mut self) {
        if let Some(t) = self.task.lock().unwrap_or_else(|e| e.into_inner()).take() {
            t.abort();
        }
    }
}

/// A container that can take connections.
#[derive(Clone, Debug)]
pub struct Backend {
    pub resource: String,
    pub replica: u32,
    /// The container port published on the loopback address.
    pub host_port: Option<u16>,
    /// Ready (and, for a replica, caught up with its master).
    pub routable: bool,
    /// Being removed: takes no new connection.
    pub draining: bool,
    pub active: Arc<AtomicU64>,
}

/// Latest resource usage of a container (Docker stats).
#[derive(Clone, Copy, Debug, Default)]
pub struct Usage {
    /// CPU as a percent of the container's CPU limit.
    pub cpu_percent: f64,
    pub memory_bytes: u64,
}

struct NetState {
    power: Power,
    backends: BTreeMap<String, Backend>,
    listeners: BTreeMap<String, Arc<Listener>>,
    usage: BTreeMap<String, Usage>,
    lag: BTreeMap<String, u64>,
}

/// What the endpoints need from the controller.
pub trait Hooks: Send + Sync + 'static {
    /// A client arrived while the deployment sleeps.
    fn wake(&self, deployment: &str, endpoint: &str);
    /// A backend refused or dropped a fresh connection: look at it again
    /// (its published port may have changed after a restart).
    fn recheck(&self, deployment: &str, container: &str);
    /// Record an event of the deployment.
    fn event(&self, deployment: &str, message: &str);
}

/// The endpoints and routing state of one deployment.
pub struct DeploymentNet {
    pub id: String,
    state: Mutex<NetState>,
    changed: watch::Sender<u64>,
    /// Client connections open or held on any endpoint.
    pub active: AtomicU64,
    last_activity_ms: AtomicI64,
    pub wakes: AtomicU64,
    pub stops: AtomicU64,
}

impl DeploymentNet {
    fn new(id: &str) -> DeploymentNet {
        DeploymentNet {
            id: id.to_owned(),
            state: Mutex::new(NetState {
                power: Power::Awake,
                backends: BTreeMap::new(),
                listeners: BTreeMap::new(),
                usage: BTreeMap::new(),
                lag: BTreeMap::new(),
            }),
            changed: watch::channel(0).0,
            active: AtomicU64::new(0),
            last_activity_ms: AtomicI64::new(now_ms()),
            wakes: AtomicU64::new(0),
            stops: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, NetState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn notify(&self) {
        self.changed.send_modify(|v| *v += 1);
    }

    /// Restart the idle clock (a client came or went, the deployment woke).
    pub fn touch(&self) {
        self.last_activity_ms.store(now_ms(), Ordering::Relaxed);
    }

    /// Milliseconds since the last client came or went (0 while any is open).
    pub fn idle_ms(&self) -> i64 {
        if self.active.load(Ordering::Relaxed) > 0 {
            return 0;
        }
        (now_ms() - self.last_activity_ms.load(Ordering::Relaxed)).max(0)
    }

    pub fn power(&self) -> Power {
        self.lock().power
    }

    pub fn set_power(&self, power: Power) {
        self.lock().power = power;
        self.notify();
    }

    /// Asleep → waking; `true` for the one caller that made the change.
    pub fn begin_wake(&self) -> bool {
        let mut s = self.lock();
        if s.power == Power::Asleep {
            s.power = Power::Waking;
            drop(s);
            self.notify();
            true
        } else {
            false
        }
    }

    /// Record (or update) a container that can take connections.
    pub fn set_backend(
        &self,
        container: &str,
        resource: &str,
        replica: u32,
        host_port: Option<u16>,
        routable: bool,
    ) {
        let mut s = self.lock();
        let b = s
            .backends
            .entry(container.to_owned())
            .or_insert_with(|| Backend {
                resource: resource.to_owned(),
                replica,
                host_port,
                routable,
                draining: false,
                active: Arc::new(AtomicU64::new(0)),
            });
        b.host_port = host_port;
        b.routable = routable;
        b.draining = false;
        drop(s);
        self.notify();
    }

    pub fn set_routable(&self, container: &str, routable: bool) {
        if let Some(b) = self.lock().backends.get_mut(container) {
            b.routable = routable;
        }
        self.notify();
    }

    /// Stop routing new connections to `container`; returns its open ones.
    pub fn drain(&self, container: &str) -> u64 {
        let mut s = self.lock();
        match s.backends.get_mut(container) {
            Some(b) => {
                b.draining = true;
                b.active.load(Ordering::Relaxed)
            }
            None => 0,
        }
    }

    /// Open client connections on `container`.
    pub fn backend_active(&self, container: &str) -> u64 {
        self.lock()
            .backends
            .get(container)
            .map_or(0, |b| b.active.load(Ordering::Relaxed))
    }

    pub fn remove_backend(&self, container: &str) {
        let mut s = self.lock();
        s.backends.remove(container);
        s.usage.remove(container);
        s.lag.remove(container);
        drop(s);
        self.notify();
    }

    /// No container takes new connections (the deployment goes to sleep).
    pub fn unroute_all(&self) {
        for b in self.lock().backends.values_mut() {
            b.routable = false;
        }
        self.notify();
    }

    pub fn backends(&self) -> BTreeMap<String, Backend> {
        self.lock().backends.clone()
    }

    pub fn backend(&self, container: &str) -> Option<Backend> {
        self.lock().backends.get(container).cloned()
    }

    pub fn listeners(&self) -> Vec<Arc<Listener>> {
        self.lock().listeners.values().cloned().collect()
    }

    pub fn set_usage(&self, container: &str, usage: Usage) {
        self.lock().usage.insert(container.to_owned(), usage);
    }

    pub fn usage(&self) -> BTreeMap<String, Usage> {
        self.lock().usage.clone()
    }

    pub fn set_lag(&self, container: &str, seconds: u64) {
        self.lock().lag.insert(container.to_owned(), seconds);
    }

    pub fn lag(&self) -> BTreeMap<String, u64> {
        self.lock().lag.clone()
    }

    /// The backend for a new connection on `spec`: routable, not draining,
    /// not yet tried; fewest open connections, then round-robin.
    fn pick(
        &self,
        listener: &Listener,
        tried: &BTreeSet<String>,
    ) -> Option<(String, u16, Arc<AtomicU64>)> {
        let s = self.lock();
        if matches!(s.power, Power::Stopping | Power::Asleep) {
            return None;
        }
        let candidates: Vec<(&String, &Backend)> = s
            .backends
            .iter()
            .filter(|(name, b)| {
                b.resource == listener.spec.resource
                    && listener.spec.replica.is_none_or(|r| r == b.replica)
                    && b.routable
                    && !b.draining
                    && b.host_port.is_some()
                    && !tried.contains(*name)
            })
            .collect();
        let least = candidates
            .iter()
            .map(|(_, b)| b.active.load(Ordering::Relaxed))
            .min()?;
        let fewest: Vec<_> = candidates
            .into_iter()
            .filter(|(_, b)| b.active.load(Ordering::Relaxed) == least)
            .collect();
        let i = listener.next.fetch_add(1, Ordering::Relaxed) % fewest.len();
        let (name, b) = fewest[i];
        Some((name.clone(), b.host_port?, b.active.clone()))
    }
}

/// Timing knobs of the endpoints.
#[derive(Clone, Copy, Debug)]
pub struct EndpointSettings {
    /// How long a client is held waiting for a routable backend.
    pub hold: Duration,
    /// How long to wait for a backend's TCP connect.
    pub connect: Duration,
    /// Reach a container over its shared `mysqld` socket when it has one
    /// ([`crate::docker::shared_socket`]); `false` (or
    /// `SPECSTUDIO_ENDPOINT_BACKEND=tcp`, for comparisons): its published port.
    pub unix_backend: bool,
}

impl Default for EndpointSettings {
    fn default() -> Self {
        EndpointSettings {
            hold: Duration::from_secs(120),
            connect: Duration::from_secs(3),
            unix_backend: std::env::var("SPECSTUDIO_ENDPOINT_BACKEND").as_deref() != Ok("tcp"),
        }
    }
}

/// The threads that run the proxies: each a single-threaded runtime, so a
/// spliced connection is served by one epoll loop without cross-thread
/// wake-ups (a multi-threaded runtime spent a third of the proxy's CPU on
/// futex and task-switch wake-ups in `perf`). Listeners are spread over them.
struct ProxyThreads {
    handles: Vec<tokio::runtime::Handle>,
    next: AtomicUsize,
    stop: Vec<tokio::sync::oneshot::Sender<()>>,
}

impl ProxyThreads {
    fn start(count: usize) -> std::io::Result<ProxyThreads> {
        let mut handles = Vec::new();
        let mut stop = Vec::new();
        for i in 0..count.max(1) {
            let (handle_tx, handle_rx) = std::sync::mpsc::channel();
            let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
            std::thread::Builder::new()
                .name(format!("endpoint-proxy-{i}"))
                .spawn(move || {
                    let rt = match tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                    {
                        Ok(rt) => rt,
                        Err(e) => {
                            let _ = handle_tx.send(Err(e));
                            return;
                        }
                    };
                    let _ = handle_tx.send(Ok(rt.handle().clone()));
                    // runs until the endpoints are dropped (or the process ends)
                    rt.block_on(async {
                        let _ = stop_rx.await;
                    });
                })?;
            let handle = handle_rx
                .recv()
                .map_err(|_| std::io::Error::other("the proxy thread did not start"))??;
            handles.push(handle);
            stop.push(stop_tx);
        }
        Ok(ProxyThreads {
            handles,
            next: AtomicUsize::new(0),
            stop,
        })
    }

    fn pick(&self) -> &tokio::runtime::Handle {
        &self.handles[self.next.fetch_add(1, Ordering::Relaxed) % self.handles.len()]
    }
}

/// All deployments' endpoints.
pub struct Endpoints {
    nets: Mutex<HashMap<String, Arc<DeploymentNet>>>,
    proxies: ProxyThreads,
    /// Address listeners bind (the server's `--bind-address`).
    bind_host: String,
    /// Address published container ports are reached on.
    backend_host: String,
    pub settings: EndpointSettings,
}

impl Endpoints {
    pub fn new(bind_host: &str, backend_host: &str, settings: EndpointSettings) -> Endpoints {
        // half the CPUs (at least one): the other half serves the databases
        let threads = std::thread::available_parallelism()
            .map(|n| n.get() / 2)
            .unwrap_or(1)
            .max(1);
        Endpoints {
            proxies: ProxyThreads::start(threads).expect("cannot start the endpoint proxy threads"),
            nets: Mutex::new(HashMap::new()),
            bind_host: bind_host.to_owned(),
            backend_host: backend_host.to_owned(),
            settings,
        }
    }

    pub fn bind_host(&self) -> &str {
        &self.bind_host
    }

    /// The deployment's routing state, created on first use.
    pub fn net(&self, id: &str) -> Arc<DeploymentNet> {
        self.nets
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(id.to_owned())
            .or_insert_with(|| Arc::new(DeploymentNet::new(id)))
            .clone()
    }

    pub fn get(&self, id: &str) -> Option<Arc<DeploymentNet>> {
        self.nets
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(id)
            .cloned()
    }

    pub fn all(&self) -> Vec<Arc<DeploymentNet>> {
        self.nets
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .cloned()
            .collect()
    }

    /// Close every listener of a deployment and forget it.
    pub fn remove(&self, id: &str) {
        let net = self
            .nets
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id);
        if let Some(net) = net {
            net.lock().listeners.clear();
            net.notify();
        }
    }

    /// Make the deployment's listeners exactly `wanted`: open the missing
    /// ones (on their stored port when free), close the others.
    pub async fn sync(
        &self,
        id: &str,
        wanted: &[EndpointSpec],
        store: &Store,
        hooks: Arc<dyn Hooks>,
    ) -> Result<(), String> {
        let net = self.net(id);
        let wanted_names: BTreeSet<&str> = wanted.iter().map(|w| w.name.as_str()).collect();
        {
            let mut s = net.lock();
            s.listeners
                .retain(|name, l| wanted_names.contains(name.as_str()) && wanted.contains(&l.spec));
        }
        for spec in wanted {
            if net.lock().listeners.contains_key(&spec.name) {
                continue;
            }
            let stored = store
                .endpoint_port(id, &spec.name)
                .map_err(|e| e.to_string())?;
            let (listener, moved) = self.bind(stored).await.map_err(|e| {
                format!(
                    "cannot open endpoint {} on {}: {e}",
                    spec.name, self.bind_host
                )
            })?;
            let port = listener.local_addr().map_err(|e| e.to_string())?.port();
            if stored != Some(port) {
                store
                    .set_endpoint_port(id, &spec.name, port)
                    .map_err(|e| e.to_string())?;
            }
            if let (true, Some(old)) = (moved, stored) {
                hooks.event(
                    id,
                    &format!(
                        "endpoint {} moved from port {old} to {port}: {old} is taken by another process",
                        spec.name
                    ),
                );
            }
            let info = Arc::new(Listener {
                spec: spec.clone(),
                port,
                connections: AtomicU64::new(0),
                active: AtomicU64::new(0),
                bytes_in: AtomicU64::new(0),
                bytes_out: AtomicU64::new(0),
                next: AtomicUsize::new(0),
                task: Mutex::new(None),
            });
            let task = self.proxies.pick().spawn(accept_loop(
                listener,
                net.clone(),
                Arc::downgrade(&info),
                hooks.clone(),
                self.backend_host.clone(),
                self.settings,
            ));
            *info.task.lock().unwrap_or_else(|e| e.into_inner()) = Some(task.abort_handle());
            net.lock().listeners.insert(spec.name.clone(), info);
        }
        Ok(())
    }

    /// Bind the stored port if it is free, else a fresh one (`true`: moved).
    async fn bind(&self, stored: Option<u16>) -> std::io::Result<(std::net::TcpListener, bool)> {
        if let Some(p) = stored {
            // a listener just closed by this process frees its port a moment later
            for _ in 0..10 {
                if let Ok(l) = bind_std(&self.bind_host, p) {
                    return Ok((l, false));
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        Ok((bind_std(&self.bind_host, 0)?, stored.is_some()))
    }
}

impl Drop for Endpoints {
    fn drop(&mut self) {
        for stop in self.proxies.stop.drain(..) {
            let _ = stop.send(());
        }
    }
}

/// A non-blocking std listener: registered later with the proxy thread's
/// reactor (a tokio listener belongs to the runtime that created it).
fn bind_std(host: &str, port: u16) -> std::io::Result<std::net::TcpListener> {
    let l = std::net::TcpListener::bind((host, port))?;
    l.set_nonblocking(true)?;
    Ok(l)
}

async fn accept_loop(
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
            if net.power() == Power::Asleep && net.begin_wake() {
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
fn connect_nonblocking(path: &std::path::Path) -> std::io::Result<std::os::unix::net::UnixStream> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
        let store = Store::in_memory().unwrap();
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
        assert_eq!(store.endpoint_port("d1", "Db").unwrap(), Some(port));
    }

    #[tokio::test]
    async fn holds_a_client_until_a_backend_is_routable_and_wakes_a_sleeper() {
        let store = Store::in_memory().unwrap();
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
        let store = Store::in_memory().unwrap();
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
        let store = Store::in_memory().unwrap();
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
}
