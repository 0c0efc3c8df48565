//! Kernel forwarding of endpoint ports (issue 14): while a deployment is
//! awake and nothing drains, new connections to an endpoint's loopback port
//! are DNATed by the kernel straight to the container's address and port —
//! no user-space hop — and the endpoint's listener takes them again (the
//! rules gone) for pause, stop, wake and drain.
//!
//! This module keeps the rules: each deployment hands in its share
//! ([`EndpointRules`]), and the whole set is written into this server's own
//! chains in one atomic batch when it changes. It reads the kernel's
//! figures back (rule counters: connections and bytes; conntrack: open
//! flows per backend). The rules of a server that died (SIGKILL) are found
//! by the pid in their jump's comment and removed at the next start of any
//! server; a server's own are removed on graceful stop.
//!
//! Where the endpoint state lives and how it decides what to forward:
//! `proxy/kernel.rs`.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::Ipv4Addr;
use std::sync::Mutex;

use tracing::{info, warn};

#[cfg(test)]
pub mod fake;
pub mod rules;
pub mod system;

use rules::{Chains, Counted, Guard, Jump, Kind};
pub use rules::{EndpointRules, Flow};
pub use system::{Iptables, System};

/// Traffic the kernel forwarded on one endpoint port since the last read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Delta {
    pub port: u16,
    pub connections: u64,
    /// Client → container payload bytes (estimated from IP bytes).
    pub bytes_in: u64,
    /// Container → client payload bytes.
    pub bytes_out: u64,
}

/// This server's kernel forwarding rules.
pub struct KernelForward {
    sys: Box<dyn System>,
    tag: String,
    chains: Chains,
    bind: Ipv4Addr,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    fragments: BTreeMap<String, Vec<EndpointRules>>,
    /// The batch last applied (the same desired set is not applied twice).
    applied: Option<String>,
    /// Counters last read, per (port, kind): (packets, bytes).
    seen: HashMap<(u16, Kind), (u64, u64)>,
    /// Bridges we set `route_localnet` on → the value before.
    guards: BTreeMap<String, u8>,
    /// Container address → the bridge it is on.
    devs: HashMap<Ipv4Addr, String>,
    closed: bool,
}

/// The built-in chains we jump from.
const BUILTINS: [(&str, &str); 4] = [
    ("nat", "OUTPUT"),
    ("nat", "POSTROUTING"),
    ("filter", "OUTPUT"),
    ("filter", "INPUT"),
];

/// A short tag of the instance id: chain names are at most 28 characters.
pub fn tag_of(instance: &str) -> String {
    use sha2::Digest;
    crate::plan::hex(&sha2::Sha256::digest(instance.as_bytes())[..4])
}

impl KernelForward {
    /// Clean up what a previous run of this instance (or any dead server)
    /// left, then create this server's chains.
    pub fn start(
        sys: Box<dyn System>,
        instance: &str,
        bind: Ipv4Addr,
    ) -> Result<KernelForward, String> {
        let tag = tag_of(instance);
        let kf = KernelForward {
            chains: Chains::new(&tag),
            tag: tag.clone(),
            sys,
            bind,
            inner: Mutex::new(Inner::default()),
        };
        let removed = kf.clean(|j| j.tag == tag || !kf.sys.server_alive(j.pid))?;
        if !removed.is_empty() {
            info!(
                "kernel forwarding: removed the rules left by {}",
                removed.join(", ")
            );
        }
        // chains left without their jumps (never written that way, but
        // cheap to be sure): remove them one by one, errors ignored
        for (table, _, chain) in kf.chains.jumps() {
            let _ = kf
                .sys
                .restore(&format!("*{table}\n-F {chain}\n-X {chain}\nCOMMIT\n"));
        }
        kf.sys
            .restore(&rules::render_setup(&kf.chains, &tag, std::process::id()))?;
        Ok(kf)
    }

    /// Only remove what this instance's previous run and dead servers left
    /// (a server started with `--kernel-forward off`: their DNAT would
    /// otherwise keep taking its endpoints' connections).
    pub fn clean_only(sys: Box<dyn System>, instance: &str) -> Result<Vec<String>, String> {
        let tag = tag_of(instance);
        let kf = KernelForward {
            chains: Chains::new(&tag),
            tag: tag.clone(),
            sys,
            bind: Ipv4Addr::LOCALHOST,
            inner: Mutex::new(Inner::default()),
        };
        kf.clean(|j| j.tag == tag || !kf.sys.server_alive(j.pid))
    }

    pub fn tag(&self) -> &str {
        &self.tag
    }

    pub fn chains(&self) -> &Chains {
        &self.chains
    }

    pub fn bind(&self) -> Ipv4Addr {
        self.bind
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Remove the jumps `stale` selects and their chains, restoring
    /// `route_localnet` as their guards recorded it. Returns the
    /// `tag (pid)` of each instance cleaned.
    fn clean(&self, stale: impl Fn(&Jump) -> bool) -> Result<Vec<String>, String> {
        let mut jumps = Vec::new();
        for (table, builtin) in BUILTINS {
            let listing = self.sys.list(table, builtin)?;
            jumps.extend(
                rules::parse_jumps(table, &listing)
                    .into_iter()
                    .filter(&stale),
            );
        }
        for j in jumps
            .iter()
            .filter(|j| j.table == "filter" && j.target.ends_with("-IN"))
        {
            let Ok(listing) = self.sys.list("filter", &j.target) else {
                continue;
            };
            for g in rules::parse_guards(&listing) {
                if let Err(e) = self.sys.set_route_localnet(&g.dev, g.was) {
                    // the bridge went with its network: nothing to restore
                    tracing::debug!("route_localnet of {}: {e}", g.dev);
                }
            }
        }
        if jumps.is_empty() {
            return Ok(Vec::new());
        }
        // one batch, else rule by rule: another server starting now may be
        // removing the same dead server's rules (what is gone is fine)
        if self.sys.restore(&rules::render_teardown(&jumps)).is_err() {
            for j in &jumps {
                let _ = self
                    .sys
                    .restore(&rules::render_teardown(std::slice::from_ref(j)));
                let _ = self.sys.restore(&format!(
                    "*{}\n-F {t}\n-X {t}\nCOMMIT\n",
                    j.table,
                    t = j.target
                ));
            }
        }
        let mut who: Vec<String> = jumps
            .iter()
            .map(|j| format!("{} (pid {})", j.tag, j.pid))
            .collect();
        who.dedup();
        Ok(who)
    }

    /// Make `deployment`'s share of the rules `endpoints` (empty: none),
    /// and apply the whole set if it changed. Returns the traffic counted
    /// by the rules it replaced.
    pub fn set(
        &self,
        deployment: &str,
        endpoints: Vec<EndpointRules>,
    ) -> Result<Vec<Delta>, String> {
        let mut inner = self.lock();
        if inner.closed {
            return Ok(Vec::new());
        }
        if endpoints.is_empty() {
            inner.fragments.remove(deployment);
        } else {
            inner.fragments.insert(deployment.to_owned(), endpoints);
        }
        self.apply(&mut inner)
    }

    fn apply(&self, inner: &mut Inner) -> Result<Vec<Delta>, String> {
        let endpoints: Vec<EndpointRules> = inner.fragments.values().flatten().cloned().collect();
        let ips: BTreeSet<Ipv4Addr> = endpoints
            .iter()
            .flat_map(|e| e.targets.iter().map(|t| *t.ip()))
            .collect();
        inner.devs.retain(|ip, _| ips.contains(ip));
        let mut needed = BTreeSet::new();
        for ip in &ips {
            if !inner.devs.contains_key(ip) {
                match self.sys.route_dev(*ip) {
                    Some(dev) => {
                        inner.devs.insert(*ip, dev);
                    }
                    None => warn!("kernel forwarding: no route to {ip}"),
                }
            }
            if let Some(dev) = inner.devs.get(ip) {
                if dev != "lo" {
                    needed.insert(dev.clone());
                }
            }
        }
        for dev in &needed {
            if inner.guards.contains_key(dev) {
                continue;
            }
            // loopback-sourced packets may only leave by a bridge that
            // allows it (as dockerd does with --userland-proxy=false)
            let was = self.sys.route_localnet(dev).unwrap_or(0);
            if was == 0 {
                self.sys.set_route_localnet(dev, 1)?;
            }
            inner.guards.insert(dev.clone(), was);
        }
        let guards: Vec<Guard> = inner
            .guards
            .iter()
            .filter(|(dev, _)| needed.contains(*dev))
            .map(|(dev, was)| Guard {
                dev: dev.clone(),
                was: *was,
            })
            .collect();
        let text = rules::render(&self.chains, self.bind, &endpoints, &guards);
        if inner.applied.as_deref() == Some(text.as_str()) {
            return Ok(Vec::new());
        }
        let deltas = self.fold(inner).unwrap_or_default();
        self.sys.restore(&text)?;
        inner.applied = Some(text);
        inner.seen.clear();
        // bridges no rule goes to any more get their setting back
        let unused: Vec<String> = inner
            .guards
            .keys()
            .filter(|d| !needed.contains(*d))
            .cloned()
            .collect();
        for dev in unused {
            if let Some(was) = inner.guards.remove(&dev) {
                let _ = self.sys.set_route_localnet(&dev, was);
            }
        }
        Ok(deltas)
    }

    /// Read the counting rules; the growth since the last read, per port.
    fn fold(&self, inner: &mut Inner) -> Result<Vec<Delta>, String> {
        let mut counted: Vec<Counted> = Vec::new();
        for chain in [&self.chains.out, &self.chains.inp] {
            counted.extend(rules::parse_counters(&self.sys.list("filter", chain)?));
        }
        let mut by_port: BTreeMap<u16, [(u64, u64); 3]> = BTreeMap::new();
        for c in counted {
            let before = inner.seen.insert((c.port, c.kind), (c.packets, c.bytes));
            let (p0, b0) = before.unwrap_or((0, 0));
            // counters only grow; smaller means the rule is new
            let (dp, db) = if c.packets >= p0 && c.bytes >= b0 {
                (c.packets - p0, c.bytes - b0)
            } else {
                (c.packets, c.bytes)
            };
            let slot = match c.kind {
                Kind::Conn => 0,
                Kind::In => 1,
                Kind::Out => 2,
            };
            let e = by_port.entry(c.port).or_default();
            e[slot].0 += dp;
            e[slot].1 += db;
        }
        Ok(by_port
            .into_iter()
            .map(|(port, [conn, inn, out])| Delta {
                port,
                connections: conn.0,
                bytes_in: rules::payload(inn.1, inn.0, conn.0),
                bytes_out: rules::payload(out.1, out.0, conn.0),
            })
            .filter(|d| {
                *d != Delta {
                    port: d.port,
                    ..Delta::default()
                }
            })
            .collect())
    }

    /// The traffic counted since the last read, and the flows the kernel
    /// forwards from our bind address now.
    pub fn poll(&self) -> Result<(Vec<Delta>, Vec<Flow>), String> {
        let mut inner = self.lock();
        // nothing forwarded or counted: no process to run (the last
        // rebuild already folded what the removed rules counted)
        if inner.closed || inner.fragments.is_empty() {
            return Ok((Vec::new(), Vec::new()));
        }
        let deltas = self.fold(&mut inner)?;
        drop(inner);
        let flows = rules::parse_conntrack(&self.sys.conntrack()?)
            .into_iter()
            .filter(|f| f.orig_dst == self.bind)
            .collect();
        Ok((deltas, flows))
    }

    /// Remove every rule of this server (graceful stop); later calls to
    /// [`KernelForward::set`] do nothing. Returns the last traffic counted.
    pub fn shutdown(&self) -> Vec<Delta> {
        let mut inner = self.lock();
        if inner.closed {
            return Vec::new();
        }
        inner.closed = true;
        let deltas = self.fold(&mut inner).unwrap_or_default();
        let tag = self.tag.clone();
        match self.clean(|j| j.tag == tag) {
            Ok(_) => info!("kernel forwarding: rules removed"),
            Err(e) => warn!("kernel forwarding: removing the rules failed: {e}"),
        }
        inner.guards.clear();
        inner.fragments.clear();
        deltas
    }
}

#[cfg(test)]
mod tests;
