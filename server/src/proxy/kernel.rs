//! The endpoints' side of kernel forwarding ([`crate::forward`]): which
//! endpoints the kernel may forward now, and the kernel's figures folded
//! into the same counters the proxy keeps.
//!
//! An endpoint is forwarded while its deployment is [`Power::Awake`], every
//! backend it could pick is routable with a known address, and none of them
//! drains; otherwise its rules go and new connections reach our listener,
//! which holds, wakes and drains as without forwarding. Connections the
//! kernel already forwards keep their backend (conntrack) whatever changes.
//!
//! Counters: the kernel's new-connection and byte counts are added to the
//! listener's `connections`, `bytes_in`, `bytes_out` (payload estimated from
//! IP bytes, [`crate::forward::rules::payload`]); the forwarded flows that
//! are open (conntrack) are added to the listener's, the deployment's and
//! the backend's `active`, so idleness, the API and drains see them. Read
//! every [`POLL`] and before a drain decides.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::SocketAddrV4;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Duration;

use futures_util::future::BoxFuture;
use tracing::{debug, warn};

use super::{Backend, DeploymentNet, Hooks, Listener, NetState, Power};
use crate::forward::{Delta, EndpointRules, Flow, KernelForward};

/// How often the kernel's counters and flows are read.
pub(super) const POLL: Duration = Duration::from_millis(500);

type Nets = Mutex<HashMap<String, Arc<DeploymentNet>>>;

/// Looks up `(deployment, container)`'s address and endpoint port.
pub type Resolver =
    Arc<dyn Fn(&str, &str) -> BoxFuture<'static, Option<SocketAddrV4>> + Send + Sync>;

/// Kernel forwarding for all endpoints of this server.
pub struct Kernel {
    pub rules: KernelForward,
    nets: Weak<Nets>,
    /// One reader of the kernel's figures at a time.
    reading: Mutex<()>,
    /// The controller: told about backends that stopped answering.
    hooks: OnceLock<Arc<dyn Hooks>>,
    /// The controller: where a routed container can be reached.
    resolver: OnceLock<Resolver>,
    /// Forwarded flows whose SYN was unanswered at the last read.
    unanswered: Mutex<HashSet<(SocketAddrV4, u16)>>,
}

impl Kernel {
    pub(super) fn new(rules: KernelForward, nets: &Arc<Nets>) -> Arc<Kernel> {
        let k = Arc::new(Kernel {
            rules,
            nets: Arc::downgrade(nets),
            reading: Mutex::new(()),
            hooks: OnceLock::new(),
            resolver: OnceLock::new(),
            unanswered: Mutex::new(HashSet::new()),
        });
        let weak = Arc::downgrade(&k);
        let _ = std::thread::Builder::new()
            .name("kernel-forward".into())
            .spawn(move || loop {
                std::thread::sleep(POLL);
                let Some(k) = weak.upgrade() else { return };
                k.refresh();
            });
        k
    }

    fn nets(&self) -> Vec<Arc<DeploymentNet>> {
        self.nets.upgrade().map_or_else(Vec::new, |n| {
            n.lock()
                .unwrap_or_else(|e| e.into_inner())
                .values()
                .cloned()
                .collect()
        })
    }

    /// Add counted traffic to the listeners on those ports.
    pub(super) fn fold(&self, deltas: &[Delta]) {
        if deltas.is_empty() {
            return;
        }
        for net in self.nets() {
            for l in net.listeners() {
                if let Some(d) = deltas.iter().find(|d| d.port == l.port) {
                    l.connections.fetch_add(d.connections, Ordering::Relaxed);
                    l.bytes_in.fetch_add(d.bytes_in, Ordering::Relaxed);
                    l.bytes_out.fetch_add(d.bytes_out, Ordering::Relaxed);
                }
            }
        }
    }

    /// The controller's side, set once (the first reconcile does).
    pub fn connect(&self, hooks: Arc<dyn Hooks>, resolver: Resolver) {
        let _ = self.hooks.set(hooks);
        let _ = self.resolver.set(resolver);
    }

    /// Read the kernel's counters and open flows now.
    pub fn refresh(&self) {
        let _one = self.reading.lock().unwrap_or_else(|e| e.into_inner());
        match self.rules.poll() {
            Ok((deltas, flows)) => {
                self.fold(&deltas);
                let nets = self.nets();
                for net in &nets {
                    net.count_flows(&flows);
                }
                self.recheck_silent(&nets, &flows);
            }
            Err(e) => warn!("kernel forwarding: reading the kernel's figures failed: {e}"),
        }
    }

    /// A forwarded connection whose SYN is still unanswered one read later
    /// (≥ [`POLL`]) went to a backend that is gone (stopped, restarting):
    /// the controller rechecks it, which unroutes it (the rules go, our
    /// listener holds new clients) until it is back — as the proxy does
    /// when a backend refuses.
    fn recheck_silent(&self, nets: &[Arc<DeploymentNet>], flows: &[Flow]) {
        let now: HashSet<(SocketAddrV4, u16)> = flows
            .iter()
            .filter(|f| f.unanswered)
            .map(|f| (f.backend, f.client_port))
            .collect();
        let silent: HashSet<SocketAddrV4> = {
            let mut before = self.unanswered.lock().unwrap_or_else(|e| e.into_inner());
            let silent = now.intersection(&before).map(|(b, _)| *b).collect();
            *before = now;
            silent
        };
        let Some(hooks) = self.hooks.get() else {
            return;
        };
        for addr in silent {
            for net in nets {
                let named: Vec<String> = net
                    .backends()
                    .into_iter()
                    .filter(|(_, b)| b.forward_to == Some(addr))
                    .map(|(name, _)| name)
                    .collect();
                for container in named {
                    debug!(deployment = %net.id, %container, "a forwarded connection is unanswered");
                    hooks.recheck(&net.id, &container);
                }
            }
        }
    }

    /// Look up a routed backend's address (in the background); the kernel
    /// forwards to it once known.
    fn resolve(self: &Arc<Self>, deployment: &str, container: &str, gen: u64) {
        let (Some(resolver), Ok(rt)) = (self.resolver.get(), tokio::runtime::Handle::try_current())
        else {
            return;
        };
        let lookup = resolver(deployment, container);
        let (k, deployment, container) =
            (self.clone(), deployment.to_owned(), container.to_owned());
        rt.spawn(async move {
            let Some(addr) = lookup.await else { return };
            if let Some(net) = k.nets().into_iter().find(|n| n.id == deployment) {
                net.set_forward_target(&container, gen, addr);
            }
        });
    }
}

/// Move `counter` by the change of our share in it (`mine`) to `now`.
fn adjust(counter: &AtomicU64, mine: &AtomicU64, now: u64) -> bool {
    let before = mine.swap(now, Ordering::Relaxed);
    if now > before {
        counter.fetch_add(now - before, Ordering::Relaxed);
    } else if before > now {
        counter.fetch_sub(before - now, Ordering::Relaxed);
    }
    before != now
}

/// The addresses the kernel may send `listener`'s new connections to now
/// (empty: our listener takes them).
fn targets(s: &NetState, listener: &Listener) -> Vec<SocketAddrV4> {
    if s.power != Power::Awake {
        return Vec::new();
    }
    let matching: Vec<&Backend> = s
        .backends
        .values()
        .filter(|b| {
            b.resource == listener.spec.resource
                && listener.spec.replica.is_none_or(|r| r == b.replica)
        })
        .collect();
    if matching.iter().any(|b| b.draining) {
        return Vec::new();
    }
    let routable: Vec<&Backend> = matching
        .into_iter()
        .filter(|b| b.routable && b.host_port.is_some())
        .collect();
    // every routable backend, or none: the balance stays over all of them
    let mut out: Vec<SocketAddrV4> = routable.iter().filter_map(|b| b.forward_to).collect();
    if out.len() != routable.len() {
        return Vec::new();
    }
    out.sort_unstable();
    out
}

impl DeploymentNet {
    /// This deployment's share of the kernel rules, from its state now.
    fn forward_rules(&self) -> Vec<EndpointRules> {
        let s = self.lock();
        s.listeners
            .values()
            .map(|l| EndpointRules {
                deployment: self.id.clone(),
                endpoint: l.spec.name.clone(),
                port: l.port,
                targets: targets(&s, l),
            })
            .collect()
    }

    /// Make the kernel rules follow this deployment's state (after every
    /// change of power, backends or listeners). Serialised per deployment,
    /// and the state is read under that lock, so the last change wins.
    pub(super) fn sync_kernel(&self) {
        let Some(k) = &self.kernel else { return };
        let _one = self.kernel_sync.lock().unwrap_or_else(|e| e.into_inner());
        match k.rules.set(&self.id, self.forward_rules()) {
            Ok(deltas) => k.fold(&deltas),
            Err(e) => {
                warn!(deployment = %self.id, "kernel forwarding: applying the rules failed: {e}")
            }
        }
    }

    /// Whether the kernel forwards any endpoint of this deployment now.
    pub fn kernel_forwarding(&self) -> bool {
        let s = self.lock();
        s.listeners.values().any(|l| !targets(&s, l).is_empty())
    }

    /// Fold the kernel's open flows into the `active` counters.
    fn count_flows(&self, flows: &[Flow]) {
        let s = self.lock();
        let ports: BTreeMap<u16, &Arc<Listener>> =
            s.listeners.values().map(|l| (l.port, l)).collect();
        let mine: Vec<&Flow> = flows
            .iter()
            .filter(|f| f.open && ports.contains_key(&f.orig_dport))
            .collect();
        let mut total = 0;
        for (port, l) in &ports {
            let n = mine.iter().filter(|f| f.orig_dport == *port).count() as u64;
            total += n;
            adjust(&l.active, &l.kernel_open, n);
        }
        for b in s.backends.values() {
            let n = b
                .forward_to
                .map_or(0, |a| mine.iter().filter(|f| f.backend == a).count() as u64);
            adjust(&b.active, &b.kernel_open, n);
        }
        drop(s);
        if adjust(&self.active, &self.kernel_open, total) {
            // a forwarded client came or went: the idle clock restarts
            self.touch();
        }
    }

    /// The container's address the kernel forwards to, resolved after it
    /// was routed (`gen` from [`DeploymentNet::address_wanted`]: a late
    /// answer for an older incarnation is dropped).
    pub fn set_forward_target(&self, container: &str, gen: u64, addr: SocketAddrV4) {
        {
            let mut s = self.lock();
            match s.backends.get_mut(container) {
                Some(b) if b.gen == gen => b.forward_to = Some(addr),
                _ => return,
            }
        }
        self.sync_kernel();
    }

    /// With kernel forwarding on, look up the address of a routable
    /// `container` that has none yet (after it was routed anew).
    pub(super) fn resolve_if_needed(&self, container: &str) {
        let Some(k) = &self.kernel else { return };
        let gen = {
            let s = self.lock();
            match s.backends.get(container) {
                Some(b) if b.routable && b.forward_to.is_none() => b.gen,
                _ => return,
            }
        };
        k.resolve(&self.id, container, gen);
    }
}

impl super::Endpoints {
    /// Turn kernel forwarding on (once, before deployments are routed).
    pub fn enable_kernel_forward(&self, rules: KernelForward) {
        let _ = self.kernel.set(Kernel::new(rules, &self.nets));
    }

    pub fn kernel(&self) -> Option<&Arc<Kernel>> {
        self.kernel.get()
    }

    /// Remove every kernel rule (graceful stop); listeners take over.
    pub fn shutdown_kernel_forward(&self) {
        if let Some(k) = self.kernel.get() {
            let deltas = k.rules.shutdown();
            k.fold(&deltas);
        }
    }
}

#[cfg(test)]
#[path = "kernel_tests.rs"]
mod tests;
