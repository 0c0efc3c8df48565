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
use std::net::SocketAddrV4;
use std::sync::atomic::{AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::AbortHandle;

mod forward;
mod kernel;
#[cfg(test)]
mod tests;

use forward::{accept_loop, bind_std};
pub use kernel::{Kernel, Resolver};

/// Milliseconds since the Unix epoch.
fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Where endpoint ports are remembered, so a listener binds the same port
/// after a restart (the server's store; a map in tests).
pub trait PortBook: Send + Sync {
    fn port(&self, deployment: &str, endpoint: &str) -> Result<Option<u16>, String>;
    fn set_port(&self, deployment: &str, endpoint: &str, port: u16) -> Result<(), String>;
}

/// A [`PortBook`] in memory.
#[derive(Default)]
pub struct MemoryPorts(Mutex<BTreeMap<(String, String), u16>>);

impl PortBook for MemoryPorts {
    fn port(&self, deployment: &str, endpoint: &str) -> Result<Option<u16>, String> {
        let map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        Ok(map
            .get(&(deployment.to_owned(), endpoint.to_owned()))
            .copied())
    }
    fn set_port(&self, deployment: &str, endpoint: &str, port: u16) -> Result<(), String> {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.insert((deployment.to_owned(), endpoint.to_owned()), port);
        Ok(())
    }
}

/// Whether a deployment's containers run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Power {
    Awake,
    /// The paused tier: containers frozen, clients held (and the
    /// deployment thawed) like when it sleeps.
    Paused,
    Stopping,
    Asleep,
    Waking,
}

/// The endpoints a deployment should have are part of its desired stack.
pub use crate::plan::EndpointSpec;

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
    /// The kernel-forwarded flows counted in `active`.
    kernel_open: AtomicU64,
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
    /// Open client connections (proxied, and kernel-forwarded ones).
    pub active: Arc<AtomicU64>,
    /// Its address and port for kernel forwarding, once resolved.
    pub forward_to: Option<SocketAddrV4>,
    /// Bumped each time it is routed anew (a restart may move it).
    pub gen: u64,
    kernel_open: Arc<AtomicU64>,
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
    pub pauses: AtomicU64,
    kernel: Option<Arc<Kernel>>,
    kernel_sync: Mutex<()>,
    /// The kernel-forwarded flows counted in `active`.
    kernel_open: AtomicU64,
}

impl DeploymentNet {
    fn new(id: &str, kernel: Option<Arc<Kernel>>) -> DeploymentNet {
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
            pauses: AtomicU64::new(0),
            kernel,
            kernel_sync: Mutex::new(()),
            kernel_open: AtomicU64::new(0),
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
        self.sync_kernel();
        self.notify();
    }

    /// Asleep → waking; `true` for the one caller that made the change.
    pub fn begin_wake(&self) -> bool {
        let mut s = self.lock();
        if matches!(s.power, Power::Asleep | Power::Paused) {
            s.power = Power::Waking;
            drop(s);
            self.sync_kernel();
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
                forward_to: None,
                gen: 0,
                kernel_open: Arc::new(AtomicU64::new(0)),
            });
        if !(b.routable && b.host_port == host_port) {
            // (re)started or back from a pause: its address is looked up again
            b.gen += 1;
            b.forward_to = None;
        }
        b.host_port = host_port;
        b.routable = routable;
        b.draining = false;
        drop(s);
        self.sync_kernel();
        self.resolve_if_needed(container);
        self.notify();
    }

    pub fn set_routable(&self, container: &str, routable: bool) {
        if let Some(b) = self.lock().backends.get_mut(container) {
            b.routable = routable;
        }
        self.sync_kernel();
        self.resolve_if_needed(container);
        self.notify();
    }

    /// Stop routing new connections to `container`; returns its open ones.
    pub fn drain(&self, container: &str) -> u64 {
        match self.lock().backends.get_mut(container) {
            Some(b) => b.draining = true,
            None => return 0,
        }
        // the kernel stops forwarding new connections to any backend of its
        // endpoints (our listener drains); its open flows are counted now
        self.sync_kernel();
        if let Some(k) = &self.kernel {
            k.refresh();
        }
        self.backend_active(container)
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
        self.sync_kernel();
        self.notify();
    }

    /// No container takes new connections (the deployment goes to sleep).
    pub fn unroute_all(&self) {
        for b in self.lock().backends.values_mut() {
            b.routable = false;
        }
        self.sync_kernel();
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
        if matches!(s.power, Power::Stopping | Power::Asleep | Power::Paused) {
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

/// `SPECSTUDIO_PROXY_THREADS` (1..=64): the number of endpoint proxy
/// threads, for measuring (`scripts/bench-serverless.py --proxy-threads`).
fn proxy_threads_override() -> Option<usize> {
    std::env::var("SPECSTUDIO_PROXY_THREADS")
        .ok()?
        .parse()
        .ok()
        .filter(|n| (1..=64).contains(n))
}

/// All deployments' endpoints.
pub struct Endpoints {
    nets: Arc<Mutex<HashMap<String, Arc<DeploymentNet>>>>,
    kernel: OnceLock<Arc<Kernel>>,
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
        let threads = proxy_threads_override().unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get() / 2)
                .unwrap_or(1)
                .max(1)
        });
        Endpoints {
            proxies: ProxyThreads::start(threads).expect("cannot start the endpoint proxy threads"),
            nets: Arc::new(Mutex::new(HashMap::new())),
            kernel: OnceLock::new(),
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
            .or_insert_with(|| Arc::new(DeploymentNet::new(id, self.kernel.get().cloned())))
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
            net.sync_kernel();
            net.notify();
        }
    }

    /// Make the deployment's listeners exactly `wanted`: open the missing
    /// ones (on their stored port when free), close the others.
    pub async fn sync(
        &self,
        id: &str,
        wanted: &[EndpointSpec],
        store: &dyn PortBook,
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
            let stored = store.port(id, &spec.name)?;
            let (listener, moved) = self.bind(stored).await.map_err(|e| {
                format!(
                    "cannot open endpoint {} on {}: {e}",
                    spec.name, self.bind_host
                )
            })?;
            let port = listener.local_addr().map_err(|e| e.to_string())?.port();
            if stored != Some(port) {
                store.set_port(id, &spec.name, port)?;
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
                kernel_open: AtomicU64::new(0),
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
        net.sync_kernel();
        Ok(())
    }

    /// Whether `container` answers a new connection (on its shared socket,
    /// else its published `port`) within `limit`; `greeting`: it must also
    /// send its first bytes, as `mysqld` does. The fast wake from the
    /// paused tier routes a thawed master as soon as this holds.
    pub async fn backend_answers(
        &self,
        container: &str,
        port: u16,
        greeting: bool,
        limit: Duration,
    ) -> bool {
        forward::answers(
            container,
            &self.backend_host,
            port,
            greeting,
            self.settings,
            limit,
        )
        .await
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
