//! An in-memory [`Engine`] for unit tests: containers, networks and volumes
//! live in a map; a started container's ports are real listeners on
//! 127.0.0.1 (so TCP readiness probes pass the way they do on Docker); any
//! operation can be told to fail on its Nth call from now
//! ([`FakeEngine::fail_nth`]) or wait at its start until the test lets it
//! go ([`FakeEngine::hold_nth`]: a chosen interleaving, not a timing), and
//! containers can crash or vanish behind the controller's back.

use std::collections::{BTreeMap, BTreeSet};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use futures_util::stream::BoxStream;
use futures_util::StreamExt;

use super::{
    ContainerState, Engine, EngineError, LostContainer, Observed, ObservedContainer, UsageSample,
};
use crate::plan::{DesiredContainer, DesiredStack};

/// An engine operation, for counting calls and injecting failures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Op {
    ImageExists,
    Pull,
    Observe,
    EnsureNetwork,
    EnsureVolume,
    CreateContainer,
    Start,
    Stop,
    Pause,
    Unpause,
    RemoveContainer,
    RemoveVolume,
    RemoveNetwork,
    CopyVolume,
    HostPorts,
    ContainerState,
}

/// One fake container.
pub struct FakeContainer {
    pub id: String,
    pub deployment: String,
    pub resource: String,
    pub replica: u32,
    pub config_hash: String,
    pub state: ContainerState,
    /// container port → host port (kept while stopped, as Docker does not).
    pub ports: BTreeMap<u16, u16>,
    listeners: Vec<TcpListener>,
}

/// One held call ([`FakeEngine::hold_nth`]): it waits at its start until
/// [`Hold::release`].
pub struct Hold {
    entered: tokio::sync::watch::Sender<bool>,
    open: tokio::sync::watch::Sender<bool>,
}

impl Hold {
    fn new() -> Hold {
        Hold {
            entered: tokio::sync::watch::Sender::new(false),
            open: tokio::sync::watch::Sender::new(false),
        }
    }

    /// Wait until the held call has begun (bounded: 10 s, then a panic).
    pub async fn entered(&self) {
        let mut rx = self.entered.subscribe();
        tokio::time::timeout(Duration::from_secs(10), rx.wait_for(|e| *e))
            .await
            .expect("the held call never came")
            .expect("hold dropped");
    }

    /// Let the held call go on.
    pub fn release(&self) {
        self.open.send_replace(true);
    }

    async fn wait(&self) {
        self.entered.send_replace(true);
        let mut rx = self.open.subscribe();
        // the sender lives in `self`: `wait_for` ends only on release
        let _ = rx.wait_for(|o| *o).await;
    }
}

#[derive(Default)]
struct State {
    containers: BTreeMap<String, FakeContainer>,
    /// name → deployment
    networks: BTreeMap<String, String>,
    volumes: BTreeMap<String, String>,
    missing_images: BTreeSet<String>,
    calls: BTreeMap<Op, u32>,
    /// (operation, calls left before it fails)
    failures: Vec<(Op, u32)>,
    /// (operation, calls left before it is held, the hold)
    holds: Vec<(Op, u32, Arc<Hold>)>,
    /// Every successful mutating call, in order ("create db-0", ...).
    journal: Vec<String>,
    /// Containers on a node that is down (`lose_node`).
    lost: Vec<LostContainer>,
    /// Why CPU samples fail (`break_usage`).
    usage_broken: Option<String>,
    /// Compose keys this engine does not apply (`refuse_keys`).
    refused_keys: BTreeSet<String>,
    next_id: u64,
}

#[derive(Default)]
pub struct FakeEngine {
    state: Mutex<State>,
}

fn injected(op: Op, n: u32) -> EngineError {
    EngineError::Other(format!("injected failure of {op:?} (call {n})"))
}

impl FakeEngine {
    pub fn new() -> FakeEngine {
        FakeEngine::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Make the `n`th call (1: the next one) of `op` from now fail.
    pub fn fail_nth(&self, op: Op, n: u32) {
        self.lock().failures.push((op, n.max(1)));
    }

    /// Hold the `n`th call (1: the next one) of `op` from now at its start
    /// until the returned [`Hold`] is released.
    pub fn hold_nth(&self, op: Op, n: u32) -> Arc<Hold> {
        let hold = Arc::new(Hold::new());
        self.lock().holds.push((op, n.max(1), hold.clone()));
        hold
    }

    /// Wait here when this call of `op` is the held one.
    async fn gate(&self, op: Op) {
        let held = {
            let mut s = self.lock();
            let mut held = None;
            s.holds.retain_mut(|(o, left, hold)| {
                if *o != op {
                    return true;
                }
                *left -= 1;
                if *left == 0 {
                    held = Some(hold.clone());
                    return false;
                }
                true
            });
            held
        };
        if let Some(hold) = held {
            hold.wait().await;
        }
    }

    /// How many times `op` was called.
    pub fn calls(&self, op: Op) -> u32 {
        self.lock().calls.get(&op).copied().unwrap_or(0)
    }

    /// The mutating calls that succeeded, in order.
    pub fn journal(&self) -> Vec<String> {
        self.lock().journal.clone()
    }

    /// An image that is neither present nor pullable.
    pub fn remove_image(&self, image: &str) {
        self.lock().missing_images.insert(image.to_owned());
    }

    /// Act as an engine that does not apply these compose keys (as the
    /// swarm engine does not apply `tmpfs`): [`Engine::unsupported`] names
    /// each one a planned container has.
    pub fn refuse_keys(&self, keys: &[&str]) {
        self.lock().refused_keys = keys.iter().map(|k| (*k).to_owned()).collect();
    }

    /// The container stops by itself (a crash).
    pub fn crash(&self, name: &str) {
        if let Some(c) = self.lock().containers.get_mut(name) {
            c.state = ContainerState::Exited;
            c.listeners.clear();
        }
    }

    /// The node under `container` goes down (a multi-node engine): the
    /// container stops and is reported lost until [`FakeEngine::node_back`].
    pub fn lose_node(&self, node: &str, container: &str) {
        self.crash(container);
        self.lock().lost.push(LostContainer {
            name: container.to_owned(),
            node: node.to_owned(),
            zone: None,
        });
    }

    /// CPU samples fail with `reason` (a node daemon that does not answer);
    /// `None`: they work again.
    pub fn break_usage(&self, reason: Option<&str>) {
        self.lock().usage_broken = reason.map(str::to_owned);
    }

    /// Every down node is back (its containers stay stopped until started).
    pub fn node_back(&self) {
        self.lock().lost.clear();
    }

    /// Remove a container behind the controller's back.
    pub fn vanish(&self, name: &str) {
        self.lock().containers.remove(name);
    }

    /// Remove a volume behind the controller's back.
    pub fn vanish_volume(&self, name: &str) {
        self.lock().volumes.remove(name);
    }

    /// (name, state) of every container, sorted by name.
    pub fn containers(&self) -> Vec<(String, ContainerState)> {
        self.lock()
            .containers
            .iter()
            .map(|(n, c)| (n.clone(), c.state))
            .collect()
    }

    pub fn state_of(&self, name: &str) -> Option<ContainerState> {
        self.lock().containers.get(name).map(|c| c.state)
    }

    pub fn volumes(&self) -> Vec<String> {
        self.lock().volumes.keys().cloned().collect()
    }

    pub fn networks(&self) -> Vec<String> {
        self.lock().networks.keys().cloned().collect()
    }

    /// Count a call of `op`; `Err` when it was told to fail now.
    fn call(&self, op: Op) -> Result<std::sync::MutexGuard<'_, State>, EngineError> {
        let mut s = self.lock();
        let n = {
            let c = s.calls.entry(op).or_default();
            *c += 1;
            *c
        };
        let mut fail = false;
        s.failures.retain_mut(|(o, left)| {
            if *o != op {
                return true;
            }
            *left -= 1;
            if *left == 0 {
                fail = true;
                return false;
            }
            true
        });
        if fail {
            return Err(injected(op, n));
        }
        Ok(s)
    }
}

/// Listen on each port (the kept host port when free), like a published
/// port of a running container.
fn listen(
    ports: &[u16],
    keep: &BTreeMap<u16, u16>,
) -> Result<(BTreeMap<u16, u16>, Vec<TcpListener>), EngineError> {
    let mut map = BTreeMap::new();
    let mut listeners = Vec::new();
    for p in ports {
        let l = keep
            .get(p)
            .and_then(|h| TcpListener::bind(("127.0.0.1", *h)).ok())
            .map_or_else(|| TcpListener::bind(("127.0.0.1", 0)), Ok)
            .map_err(|e| EngineError::Other(e.to_string()))?;
        let host = l
            .local_addr()
            .map_err(|e| EngineError::Other(e.to_string()))?
            .port();
        map.insert(*p, host);
        listeners.push(l);
    }
    Ok((map, listeners))
}

fn start_container(c: &mut FakeContainer, ports: &[u16]) -> Result<(), EngineError> {
    if c.state == ContainerState::Running {
        return Ok(());
    }
    let keep = c.ports.clone();
    let (map, listeners) = listen(ports, &keep)?;
    c.ports = map;
    c.listeners = listeners;
    c.state = ContainerState::Running;
    Ok(())
}

#[async_trait]
impl Engine for FakeEngine {
    fn bind_address(&self) -> &str {
        "127.0.0.1"
    }

    fn kind(&self) -> &'static str {
        "fake"
    }

    fn unsupported(&self, c: &DesiredContainer) -> Vec<String> {
        let refused = &self.lock().refused_keys;
        c.opts
            .given_keys()
            .into_iter()
            .filter(|k| refused.contains(*k))
            .map(str::to_owned)
            .collect()
    }

    async fn image_exists(&self, image: &str) -> Result<bool, EngineError> {
        let s = self.call(Op::ImageExists)?;
        Ok(!s.missing_images.contains(image))
    }

    async fn pull(&self, image: &str, _timeout: Duration) -> Result<(), EngineError> {
        let s = self.call(Op::Pull)?;
        if s.missing_images.contains(image) {
            return Err(EngineError::Other("no registry answered".into()));
        }
        Ok(())
    }

    async fn observe(&self, deployment: &str) -> Result<Observed, EngineError> {
        let s = self.call(Op::Observe)?;
        Ok(Observed {
            containers: s
                .containers
                .iter()
                .filter(|(_, c)| c.deployment == deployment)
                .map(|(name, c)| ObservedContainer {
                    id: c.id.clone(),
                    name: name.clone(),
                    resource: c.resource.clone(),
                    replica: c.replica,
                    state: c.state.as_str().to_owned(),
                    config_hash: c.config_hash.clone(),
                    ports: if c.state.running() {
                        c.ports.clone()
                    } else {
                        BTreeMap::new()
                    },
                    node: None,
                    zone: None,
                })
                .collect(),
            networks: s
                .networks
                .iter()
                .filter(|(_, d)| *d == deployment)
                .map(|(n, _)| n.clone())
                .collect(),
            volumes: s
                .volumes
                .iter()
                .filter(|(_, d)| *d == deployment)
                .map(|(n, _)| n.clone())
                .collect(),
        })
    }

    async fn lost_containers(&self, deployment: &str) -> Result<Vec<LostContainer>, EngineError> {
        let s = self.lock();
        Ok(s.lost
            .iter()
            .filter(|l| {
                s.containers
                    .get(&l.name)
                    .is_some_and(|c| c.deployment == deployment)
            })
            .cloned()
            .collect())
    }

    async fn observe_all(&self) -> Result<BTreeMap<String, Observed>, EngineError> {
        let deployments: BTreeSet<String> = {
            let s = self.lock();
            s.containers
                .values()
                .map(|c| c.deployment.clone())
                .chain(s.networks.values().cloned())
                .chain(s.volumes.values().cloned())
                .collect()
        };
        let mut out = BTreeMap::new();
        for d in deployments {
            let o = self.observe(&d).await?;
            out.insert(d, o);
        }
        Ok(out)
    }

    async fn ensure_network(&self, stack: &DesiredStack) -> Result<bool, EngineError> {
        let mut s = self.call(Op::EnsureNetwork)?;
        if s.networks.contains_key(&stack.network) {
            return Ok(false);
        }
        s.networks
            .insert(stack.network.clone(), stack.deployment.clone());
        s.journal.push(format!("network {}", stack.network));
        Ok(true)
    }

    async fn ensure_volume(
        &self,
        deployment: &str,
        _c: &DesiredContainer,
        name: &str,
    ) -> Result<bool, EngineError> {
        let mut s = self.call(Op::EnsureVolume)?;
        if s.volumes.contains_key(name) {
            return Ok(false);
        }
        s.volumes.insert(name.to_owned(), deployment.to_owned());
        s.journal.push(format!("volume {name}"));
        Ok(true)
    }

    async fn create_container(
        &self,
        stack: &DesiredStack,
        c: &DesiredContainer,
        keep_ports: &BTreeMap<u16, u16>,
    ) -> Result<(), EngineError> {
        let mut s = self.call(Op::CreateContainer)?;
        if !s.networks.contains_key(&stack.network) {
            return Err(EngineError::Other(format!(
                "network {} not found",
                stack.network
            )));
        }
        if let Some(v) = c.volumes.iter().find(|v| !s.volumes.contains_key(&v.name)) {
            return Err(EngineError::Other(format!("volume {} not found", v.name)));
        }
        s.next_id += 1;
        let id = format!("fake{:08}", s.next_id);
        let existing = s.containers.contains_key(&c.name);
        let container = s
            .containers
            .entry(c.name.clone())
            .or_insert_with(|| FakeContainer {
                id,
                deployment: stack.deployment.clone(),
                resource: c.resource.clone(),
                replica: c.replica,
                config_hash: c.config_hash.clone(),
                state: ContainerState::Created,
                ports: keep_ports.clone(),
                listeners: Vec::new(),
            });
        // created by an earlier, interrupted attempt: started below
        start_container(container, &c.ports)?;
        if !existing {
            s.journal.push(format!("create {}", c.name));
        }
        Ok(())
    }

    async fn start(&self, name: &str) -> Result<(), EngineError> {
        self.gate(Op::Start).await;
        let mut s = self.call(Op::Start)?;
        let c = s
            .containers
            .get_mut(name)
            .ok_or_else(|| EngineError::Other(format!("no such container: {name}")))?;
        let ports: Vec<u16> = c.ports.keys().copied().collect();
        start_container(c, &ports)?;
        s.journal.push(format!("start {name}"));
        Ok(())
    }

    async fn stop(&self, name: &str, _grace_secs: i32) -> Result<(), EngineError> {
        self.gate(Op::Stop).await;
        let mut s = self.call(Op::Stop)?;
        if let Some(c) = s.containers.get_mut(name) {
            c.state = ContainerState::Exited;
            c.listeners.clear();
            s.journal.push(format!("stop {name}"));
        }
        Ok(())
    }

    async fn pause(&self, name: &str) -> Result<(), EngineError> {
        self.gate(Op::Pause).await;
        let mut s = self.call(Op::Pause)?;
        match s.containers.get_mut(name) {
            Some(c) if c.state == ContainerState::Running => {
                c.state = ContainerState::Paused;
                Ok(())
            }
            _ => Err(EngineError::Other(format!("{name} is not running"))),
        }
    }

    async fn unpause(&self, name: &str) -> Result<(), EngineError> {
        self.gate(Op::Unpause).await;
        let mut s = self.call(Op::Unpause)?;
        match s.containers.get_mut(name) {
            Some(c) if c.state == ContainerState::Paused => {
                c.state = ContainerState::Running;
                Ok(())
            }
            _ => Err(EngineError::Other(format!("{name} is not paused"))),
        }
    }

    async fn remove_container(&self, name_or_id: &str) -> Result<(), EngineError> {
        let mut s = self.call(Op::RemoveContainer)?;
        let name = s
            .containers
            .iter()
            .find(|(n, c)| *n == name_or_id || c.id == name_or_id)
            .map(|(n, _)| n.clone());
        if let Some(name) = name {
            s.containers.remove(&name);
            s.journal.push(format!("remove {name}"));
        }
        Ok(())
    }

    async fn remove_volume(&self, name: &str) -> Result<(), EngineError> {
        let mut s = self.call(Op::RemoveVolume)?;
        if s.volumes.remove(name).is_some() {
            s.journal.push(format!("remove volume {name}"));
        }
        Ok(())
    }

    async fn remove_network(&self, name: &str) -> Result<(), EngineError> {
        let mut s = self.call(Op::RemoveNetwork)?;
        if s.networks.remove(name).is_some() {
            s.journal.push(format!("remove network {name}"));
        }
        Ok(())
    }

    async fn copy_volume(
        &self,
        _deployment: &str,
        _image: &str,
        from: &str,
        to: &str,
        _drop: &[&str],
        _timeout: Duration,
    ) -> Result<(), EngineError> {
        let mut s = self.call(Op::CopyVolume)?;
        if !s.volumes.contains_key(from) || !s.volumes.contains_key(to) {
            return Err(EngineError::Other(format!(
                "copying {from} to {to}: no such volume"
            )));
        }
        s.journal.push(format!("copy {from} {to}"));
        Ok(())
    }

    async fn usage_sample(&self, name: &str) -> Result<Option<UsageSample>, EngineError> {
        let s = self.lock();
        if let Some(reason) = &s.usage_broken {
            return Err(EngineError::Other(reason.clone()));
        }
        Ok(s.containers
            .get(name)
            .filter(|c| c.state.running())
            .map(|_| UsageSample {
                at: std::time::Instant::now(),
                cpu_ns: 0,
                memory_bytes: 0,
            }))
    }

    fn logs(&self, _name: &str, _since: i64) -> BoxStream<'static, Result<String, EngineError>> {
        futures_util::stream::empty().boxed()
    }

    async fn tail(&self, name: &str, _lines: usize) -> Vec<String> {
        vec![format!("{name}: fake engine output")]
    }

    async fn host_ports(&self, name: &str) -> Result<BTreeMap<u16, u16>, EngineError> {
        let s = self.call(Op::HostPorts)?;
        match s.containers.get(name) {
            Some(c) if c.state.running() => Ok(c.ports.clone()),
            Some(_) => Ok(BTreeMap::new()),
            None => Err(EngineError::Other(format!("no such container: {name}"))),
        }
    }

    async fn container_state(
        &self,
        name: &str,
    ) -> Result<Option<(ContainerState, Option<i64>)>, EngineError> {
        let s = self.call(Op::ContainerState)?;
        Ok(s.containers.get(name).map(|c| {
            let code = (c.state == ContainerState::Exited).then_some(0);
            (c.state, code)
        }))
    }
}
