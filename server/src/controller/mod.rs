//! The reconciler: one idempotent step moves a deployment's observed Docker
//! objects toward its desired stack, then checks readiness (a real SQL ping
//! through the published loopback port) and replication on every replica.
//!
//! Desired state = the stored record (spec + resolved params + desired
//! running/deleted) planned into a [`DesiredStack`]. Observed state = the
//! labelled Docker objects ([`Observed`]). The stored `status` is the outcome
//! of the last reconcile step.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::future::{BoxFuture, Shared};
use futures_util::{FutureExt, StreamExt};
use tokio::sync::broadcast;
use tracing::{info, info_span, warn, Instrument};

mod autoscaling;
pub mod orphans;
mod reseed;
pub use reseed::ReseedError;
mod serverless;

use crate::autoscale::Window;
use crate::deploy::{self, DesiredContainer, DesiredStack, ImageMap, PlanContext, Probe};
use crate::endpoints::{EndpointSettings, Endpoints, Hooks, Power};
use crate::logs::LogKeeper;
use crate::mysql::{self, Conn, ReplicationHealth};
use crate::provision::{Engine, Observed};
use crate::store::{DeploymentRecord, Desired, Event, Status, Store};

/// The server's serverless, autoscaling and endpoint settings.
#[derive(Clone, Debug)]
pub struct RuntimeSettings {
    /// A deployment with auto-stop sleeps after this long without a client.
    pub idle_stop_after: Duration,
    /// How long an autoscaling "minute" lasts.
    pub autoscale_minute: Duration,
    /// Zones replicas of `enableMultiZone` services are spread over.
    pub zones: Vec<String>,
    /// How long a replica being removed may keep serving open connections.
    pub drain_timeout: Duration,
    /// How long a client is held while the deployment wakes.
    pub wake_timeout: Duration,
    /// Address endpoint listeners bind.
    pub bind_address: String,
    /// Where kept logs go (`<data-dir>/logs`); `None`: logs are only streamed.
    pub logs_dir: Option<std::path::PathBuf>,
    /// Remove orphaned labelled objects at start-up (default: keep them).
    pub prune_orphans: bool,
    /// Host-escaping compose keys the operator allowed.
    pub allowed_host_keys: BTreeSet<String>,
}

impl Default for RuntimeSettings {
    fn default() -> Self {
        RuntimeSettings {
            idle_stop_after: Duration::from_secs(300),
            autoscale_minute: Duration::from_secs(60),
            zones: vec!["zone-a".into(), "zone-b".into(), "zone-c".into()],
            drain_timeout: Duration::from_secs(30),
            wake_timeout: Duration::from_secs(120),
            bind_address: "127.0.0.1".into(),
            logs_dir: None,
            prune_orphans: false,
            allowed_host_keys: BTreeSet::new(),
        }
    }
}

/// Step timeouts.
#[derive(Clone, Copy, Debug)]
pub struct Timeouts {
    pub image_pull: Duration,
    pub ready: Duration,
    pub replication: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            image_pull: Duration::from_secs(30),
            ready: Duration::from_secs(180),
            replication: Duration::from_secs(120),
        }
    }
}

/// Progress events: stored in SQLite, broadcast to SSE listeners, with every
/// known secret value of the deployment replaced by `***`.
pub struct EventHub {
    store: Arc<Store>,
    tx: broadcast::Sender<Event>,
    secrets: Mutex<HashMap<String, Vec<String>>>,
}

impl EventHub {
    pub fn new(store: Arc<Store>) -> EventHub {
        let (tx, _) = broadcast::channel(1024);
        EventHub {
            store,
            tx,
            secrets: Mutex::new(HashMap::new()),
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.tx.subscribe()
    }

    pub fn set_secrets(&self, deployment: &str, values: impl IntoIterator<Item = String>) {
        let mut v: Vec<String> = values
            .into_iter()
            .filter(|s| s.len() >= 3)
            // also their common encodings (base64 at each alignment, URL)
            .flat_map(|s| {
                let mut all = crate::redaction::encodings(&s);
                all.push(s);
                all
            })
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        v.sort_by_key(|s| std::cmp::Reverse(s.len()));
        self.secrets
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(deployment.to_owned(), v);
    }

    pub fn forget(&self, deployment: &str) {
        self.secrets
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(deployment);
    }

    pub fn redact(&self, deployment: &str, text: &str) -> String {
        let secrets = self.secrets.lock().unwrap_or_else(|e| e.into_inner());
        let mut out = text.to_owned();
        if let Some(values) = secrets.get(deployment) {
            for v in values {
                if out.contains(v.as_str()) {
                    out = out.replace(v.as_str(), "***");
                }
            }
        }
        out
    }

    /// [`EventHub::redact`] for one line of a stream (a container log): also
    /// masks the start of a secret at the end of the line and the rest of
    /// one at its start, so a secret split over two lines shows in neither.
    pub fn redact_line(&self, deployment: &str, line: &str) -> String {
        let out = self.redact(deployment, line);
        let secrets = self.secrets.lock().unwrap_or_else(|e| e.into_inner());
        match secrets.get(deployment) {
            Some(values) => crate::redaction::mask_line_edges(&out, values),
            None => out,
        }
    }

    pub fn emit(&self, deployment: &str, kind: &str, message: &str) {
        self.record(deployment, kind, self.redact(deployment, message));
    }

    /// Store and broadcast a message that is already redacted.
    fn record(&self, deployment: &str, kind: &str, message: String) {
        if kind != "log" {
            info!(deployment, kind, "{message}");
        }
        match self.store.add_event(deployment, kind, &message) {
            Ok(ev) => {
                let _ = self.tx.send(ev);
            }
            Err(e) => warn!(deployment, "storing an event failed: {e}"),
        }
    }
}

#[derive(Default)]
pub struct Counters {
    pub reconciles: AtomicU64,
    pub reconcile_failures: AtomicU64,
    pub deployments_created: AtomicU64,
    pub containers_created: AtomicU64,
    /// Sum and count of the durations of reconciles that ended `running`.
    pub ready_ms_sum: AtomicU64,
    pub ready_count: AtomicU64,
    pub scale_ups: AtomicU64,
    pub scale_downs: AtomicU64,
}

#[derive(Default)]
struct KickState {
    running: bool,
    again: bool,
}

pub struct Controller {
    pub store: Arc<Store>,
    /// The Docker engine, once reachable (see [`Controller::connect_later`]).
    engine: std::sync::RwLock<Option<Engine>>,
    pub hub: Arc<EventHub>,
    pub images: ImageMap,
    pub host_cpus: f64,
    pub timeouts: Timeouts,
    pub counters: Counters,
    kicks: Mutex<HashMap<String, KickState>>,
    generations: Mutex<HashMap<String, u64>>,
    followed: Mutex<HashSet<String>>,
    pub settings: RuntimeSettings,
    pub endpoints: Arc<Endpoints>,
    logs: Option<LogKeeper>,
    /// The last planned stack of each deployment (for the control loops).
    stacks: Mutex<HashMap<String, Arc<DesiredStack>>>,
    rechecks: Mutex<HashSet<String>>,
    wake_started: Mutex<HashMap<String, Instant>>,
    /// (deployment, service) → the scale-up under way.
    scale_started: Mutex<HashMap<(String, String), ScaleUp>>,
    windows: Mutex<HashMap<(String, String), Window>>,
    /// Deployments with a lost data volume: (container, volume) pairs that
    /// are not re-created empty until a re-seed.
    data_lost: Mutex<HashMap<String, Vec<(String, String)>>>,
}

/// A scale-up under way: when it was decided, since when utilisation was
/// over the threshold, and the replica count it aims for.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ScaleUp {
    decided: Instant,
    over_since: Option<Instant>,
    target: u32,
}

/// The controller as the endpoints see it. Endpoints run on their own
/// threads; the work they ask for is spawned on the server's runtime.
struct ControllerHooks(Arc<Controller>, tokio::runtime::Handle);

impl Hooks for ControllerHooks {
    fn wake(&self, deployment: &str, endpoint: &str) {
        let _main = self.1.enter();
        self.0
            .wake(deployment, &format!("connection on endpoint {endpoint}"));
    }
    fn recheck(&self, deployment: &str, container: &str) {
        let _main = self.1.enter();
        self.0.recheck(deployment, container);
    }
    fn event(&self, deployment: &str, message: &str) {
        self.0.hub.emit(deployment, "step", message);
    }
}

type StepResult<T> = Result<T, String>;

/// A service's start-and-ready work, awaited by the services that wait for it.
type Gate<'a> = Shared<BoxFuture<'a, StepResult<()>>>;

impl Controller {
    pub fn new(store: Arc<Store>, engine: Option<Engine>, images: ImageMap) -> Controller {
        Self::with_settings(store, engine, images, RuntimeSettings::default())
    }

    pub fn with_settings(
        store: Arc<Store>,
        engine: Option<Engine>,
        images: ImageMap,
        settings: RuntimeSettings,
    ) -> Controller {
        let hub = Arc::new(EventHub::new(store.clone()));
        let logs = settings.logs_dir.as_ref().and_then(|dir| {
            LogKeeper::new(dir, crate::logs::DEFAULT_MAX_BYTES)
                .map_err(|e| warn!("logs are not kept: cannot create {}: {e}", dir.display()))
                .ok()
        });
        let endpoints = Arc::new(Endpoints::new(
            &settings.bind_address,
            &backend_host(&settings.bind_address),
            EndpointSettings {
                hold: settings.wake_timeout,
                ..EndpointSettings::default()
            },
        ));
        Controller {
            settings,
            endpoints,
            logs,
            stacks: Mutex::new(HashMap::new()),
            rechecks: Mutex::new(HashSet::new()),
            wake_started: Mutex::new(HashMap::new()),
            scale_started: Mutex::new(HashMap::new()),
            windows: Mutex::new(HashMap::new()),
            data_lost: Mutex::new(HashMap::new()),
            store,
            engine: std::sync::RwLock::new(engine),
            hub,
            images,
            host_cpus: std::thread::available_parallelism()
                .map(|n| n.get() as f64)
                .unwrap_or(1.0),
            timeouts: Timeouts::default(),
            counters: Counters::default(),
            kicks: Mutex::new(HashMap::new()),
            generations: Mutex::new(HashMap::new()),
            followed: Mutex::new(HashSet::new()),
        }
    }

    /// The Docker engine, when reachable.
    pub fn engine(&self) -> Option<Engine> {
        self.engine
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Keep trying to reach Docker every `every` until it answers; then
    /// reconcile every record. For a server started before `dockerd`.
    pub fn connect_later(
        self: &Arc<Self>,
        host: Option<String>,
        bind_address: String,
        instance: String,
        every: Duration,
    ) {
        let this = self.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                if let Ok(engine) = Engine::connect(host.as_deref(), &bind_address, &instance).await
                {
                    info!("docker is reachable now");
                    *this.engine.write().unwrap_or_else(|e| e.into_inner()) = Some(engine);
                    this.startup().await;
                    return;
                }
            }
        });
    }

    /// The host the provisioner and clients reach published ports on.
    pub fn probe_host(&self) -> String {
        backend_host(
            self.engine()
                .as_ref()
                .map_or("", |e| e.bind_address.as_str()),
        )
    }

    /// The host clients reach endpoints on.
    pub fn endpoint_host(&self) -> String {
        backend_host(self.endpoints.bind_host())
    }

    /// Kept container logs, when the server keeps them.
    pub fn kept_logs(&self) -> Option<&LogKeeper> {
        self.logs.as_ref()
    }

    /// The last planned stack of a deployment.
    pub fn stack(&self, id: &str) -> Option<Arc<DesiredStack>> {
        self.stacks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(id)
            .cloned()
    }

    /// Plan a stored record into its desired stack.
    pub fn plan_record(&self, rec: &DeploymentRecord) -> StepResult<DesiredStack> {
        let text = self
            .store
            .get_spec(&rec.spec_id)
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("spec {} is missing from the store", rec.spec_id))?;
        let analysis = shared::analyze(&text);
        let overrides = self
            .store
            .replica_overrides(&rec.id)
            .map_err(|e| e.to_string())?;
        deploy::plan_with(
            &analysis,
            &rec.params,
            &rec.id,
            &PlanContext {
                images: Some(&self.images),
                host_cpus: self.host_cpus,
                zones: &self.settings.zones,
                replica_overrides: Some(&overrides),
                allowed_host_keys: Some(&self.settings.allowed_host_keys),
            },
        )
        .map_err(|issues| {
            issues
                .iter()
                .map(|i| i.message())
                .collect::<Vec<_>>()
                .join("; ")
        })
    }

    /// Plan a request's stack (the API's create and patch) with this
    /// server's image map, CPUs and allowed host keys.
    pub fn plan_request(
        &self,
        analysis: &shared::Analysis,
        params: &shared::params::ResolvedParams,
        id: &str,
    ) -> Result<DesiredStack, Vec<deploy::PlanIssue>> {
        deploy::plan_with(
            analysis,
            params,
            id,
            &PlanContext {
                images: Some(&self.images),
                host_cpus: self.host_cpus,
                allowed_host_keys: Some(&self.settings.allowed_host_keys),
                ..PlanContext::default()
            },
        )
    }

    pub fn register_secrets(&self, rec: &DeploymentRecord, stack: Option<&DesiredStack>) {
        let mut values = rec.params.secret_values();
        if let Some(s) = stack {
            values.extend(s.secret_values());
        }
        self.hub.set_secrets(&rec.id, values);
    }

    fn generation(&self, id: &str) -> u64 {
        *self
            .generations
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(id)
            .unwrap_or(&0)
    }

    /// Ask for a reconcile of `id`; runs are serialized per deployment and
    /// coalesced. A running reconcile's waits are cut short.
    pub fn kick(self: &Arc<Self>, id: &str) {
        {
            let mut g = self.generations.lock().unwrap_or_else(|e| e.into_inner());
            *g.entry(id.to_owned()).or_default() += 1;
        }
        let mut kicks = self.kicks.lock().unwrap_or_else(|e| e.into_inner());
        let state = kicks.entry(id.to_owned()).or_default();
        if state.running {
            state.again = true;
            return;
        }
        state.running = true;
        drop(kicks);
        let this = self.clone();
        let id = id.to_owned();
        let span = info_span!(parent: None, "reconcile", deployment = %id);
        tokio::spawn(
            async move {
                loop {
                    this.reconcile(&id).await;
                    let mut kicks = this.kicks.lock().unwrap_or_else(|e| e.into_inner());
                    let state = kicks.entry(id.clone()).or_default();
                    if state.again {
                        state.again = false;
                        continue;
                    }
                    kicks.remove(&id);
                    break;
                }
            }
            .instrument(span),
        );
    }

    /// Whether a reconcile is queued or running for `id`.
    pub fn busy(&self, id: &str) -> bool {
        self.kicks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains_key(id)
    }

    /// One reconcile step, with its outcome recorded.
    pub async fn reconcile(self: &Arc<Self>, id: &str) {
        self.counters.reconciles.fetch_add(1, Ordering::Relaxed);
        let started = Instant::now();
        let gen = self.generation(id);
        match self.reconcile_inner(id, gen).await {
            Ok(Some(Status::Running)) => {
                self.counters
                    .ready_ms_sum
                    .fetch_add(started.elapsed().as_millis() as u64, Ordering::Relaxed);
                self.counters.ready_count.fetch_add(1, Ordering::Relaxed);
            }
            Ok(_) => {}
            Err(message) => {
                if self.generation(id) != gen {
                    // superseded by a newer request; the next run decides
                    return;
                }
                self.counters
                    .reconcile_failures
                    .fetch_add(1, Ordering::Relaxed);
                let message = self.hub.redact(id, &message);
                if let Ok(Some(rec)) = self.store.get_deployment(id) {
                    let status = if rec.desired == Desired::Deleted {
                        Status::Deleting
                    } else {
                        Status::Failed
                    };
                    let _ = self.store.set_status(id, status, Some(&message));
                    self.hub.emit(id, "error", &message);
                    self.hub.emit(id, "status", status.as_str());
                }
            }
        }
    }

    fn superseded(&self, id: &str, gen: u64) -> bool {
        self.generation(id) != gen
    }

    async fn reconcile_inner(self: &Arc<Self>, id: &str, gen: u64) -> StepResult<Option<Status>> {
        let store_err = |e: crate::store::StoreError| e.to_string();
        // never act on records read from a database file that is gone
        self.store.check_file().map_err(store_err)?;
        let Some(rec) = self.store.get_deployment(id).map_err(store_err)? else {
            return Ok(None);
        };
        let Some(engine) = self.engine() else {
            return Err("docker is not reachable from this server".into());
        };
        let engine = &engine;
        let docker_err = |what: &str, e: crate::provision::EngineError| format!("{what}: {e}");
        if rec.desired == Desired::Deleted {
            if rec.status != Status::Deleting {
                self.store
                    .set_status(id, Status::Deleting, None)
                    .map_err(store_err)?;
            }
            self.hub.emit(id, "status", "deleting");
            let removed = engine
                .teardown(id)
                .await
                .map_err(|e| docker_err("removing the deployment's objects", e))?;
            self.hub.emit(
                id,
                "step",
                &format!(
                    "removed {} container(s), {} volume(s), {} network(s)",
                    removed.containers.len(),
                    removed.volumes.len(),
                    removed.networks.len()
                ),
            );
            self.endpoints.remove(id);
            self.forget_runtime(id);
            if let Some(logs) = &self.logs {
                logs.remove(id);
            }
            self.hub.emit(id, "status", "deleted");
            self.store.delete_deployment(id).map_err(store_err)?;
            self.hub.forget(id);
            return Ok(None);
        }
        let stack = match self.plan_record(&rec) {
            Ok(s) => s,
            Err(e) => {
                self.register_secrets(&rec, None);
                return Err(e);
            }
        };
        self.register_secrets(&rec, Some(&stack));
        self.stacks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id.to_owned(), Arc::new(stack.clone()));
        self.sync_endpoints(id, &stack).await?;
        if rec.desired == Desired::Stopped {
            return self.sleep(id, &rec, &stack, engine).await;
        }
        let net = self.endpoints.net(id);
        let waking = rec.status == Status::Waking;
        if matches!(net.power(), Power::Asleep | Power::Stopping) {
            net.set_power(Power::Waking);
        }
        let mut observed = engine
            .observe(id)
            .await
            .map_err(|e| docker_err("listing the deployment's objects", e))?;
        let network_missing = !observed.networks.contains(&stack.network);
        if network_missing {
            self.replace_network(id, engine, &stack, &observed).await?;
            observed = engine
                .observe(id)
                .await
                .map_err(|e| docker_err("listing the deployment's objects", e))?;
        }
        let desired_names: BTreeSet<&str> =
            stack.containers.iter().map(|c| c.name.as_str()).collect();
        let extra: Vec<_> = observed
            .containers
            .iter()
            .filter(|o| !desired_names.contains(o.name.as_str()))
            .collect();
        let mut todo = Vec::new();
        // spares are kept warm after the replicas are ready (below)
        for c in stack.active() {
            match observed.containers.iter().find(|o| o.name == c.name) {
                None => todo.push((c, Action::Create)),
                Some(o) if o.config_hash != c.config_hash => {
                    todo.push((c, Action::Recreate(o.ports.clone())))
                }
                Some(o) if !o.running() => todo.push((c, Action::Start)),
                Some(_) => {}
            }
        }
        if let Some(status) = self.hold_lost_data(id, &todo, &observed)? {
            return Ok(Some(status));
        }
        let changes = !extra.is_empty() || !todo.is_empty() || network_missing;
        if (changes || rec.status != Status::Running)
            && !matches!(rec.status, Status::Provisioning | Status::Waking)
        {
            self.store
                .set_status(id, Status::Provisioning, None)
                .map_err(store_err)?;
            self.hub.emit(id, "status", "provisioning");
        }
        // images
        let images: BTreeSet<&str> = stack.containers.iter().map(|c| c.image.as_str()).collect();
        for image in images {
            if !engine
                .image_exists(image)
                .await
                .map_err(|e| docker_err("inspecting images", e))?
            {
                self.hub.emit(id, "step", &format!("pulling image {image}"));
                engine
                    .pull(image, self.timeouts.image_pull)
                    .await
                    .map_err(|e| missing_image_message(image, &e))?;
                self.hub.emit(id, "step", &format!("pulled image {image}"));
            }
        }
        if engine
            .ensure_network(&stack)
            .await
            .map_err(|e| docker_err("creating the network", e))?
        {
            self.hub
                .emit(id, "step", &format!("network {} created", stack.network));
        }
        // containers about to restart take no new connection
        for (c, _) in &todo {
            net.set_routable(&c.name, false);
        }
        // scale down / leftovers first, each drained of its clients
        for o in &extra {
            self.drain(id, &net, &o.name).await;
            engine
                .remove_container(&o.id)
                .await
                .map_err(|e| docker_err("removing a container", e))?;
            net.remove_backend(&o.name);
            self.hub
                .emit(id, "step", &format!("container {} removed", o.name));
        }
        if !extra.is_empty() {
            let wanted: BTreeSet<&str> = stack
                .containers
                .iter()
                .flat_map(|c| c.volumes.iter().map(|v| v.name.as_str()))
                .collect();
            for v in observed
                .volumes
                .iter()
                .filter(|v| !wanted.contains(v.as_str()))
            {
                engine
                    .remove_volume(v)
                    .await
                    .map_err(|e| docker_err("removing a volume", e))?;
                self.store.forget_data_volume(id, v).map_err(store_err)?;
                self.hub.emit(id, "step", &format!("volume {v} removed"));
            }
        }
        if self.superseded(id, gen) {
            return Err("superseded by a newer request".into());
        }
        // Services start in dependency order (`DesiredStack::start_order`,
        // from the spec graph). Each service has two gates: `started` (its
        // containers are created and running) and `ready` (SQL ping, and on
        // replicas replication). A service's containers are created once the
        // services in `after` are started and those in `after_ready`
        // (`condition: service_healthy`) are ready: a replica's own
        // entrypoint waits for its master, so the two boot side by side.
        // Independent services and one service's containers proceed
        // concurrently; the first failure ends the step.
        let host = self.probe_host();
        let mut started_gates: BTreeMap<&str, Gate<'_>> = BTreeMap::new();
        let mut ready_gates: BTreeMap<&str, Gate<'_>> = BTreeMap::new();
        for step in &stack.start_order {
            let waits: Vec<Gate<'_>> = step
                .after
                .iter()
                .filter_map(|d| started_gates.get(d.as_str()).cloned())
                .chain(
                    step.after_ready
                        .iter()
                        .filter_map(|d| ready_gates.get(d.as_str()).cloned()),
                )
                .collect();
            let containers: Vec<&DesiredContainer> = stack
                .active()
                .filter(|c| c.resource == step.resource)
                .collect();
            let to_check = containers.clone();
            let todo = &todo;
            let stack = &stack;
            let started = async move {
                futures_util::future::try_join_all(waits).await?;
                let mine: Vec<_> = todo
                    .iter()
                    .filter(|(c, _)| c.resource == step.resource)
                    .collect();
                if !mine.is_empty() && !step.after.is_empty() {
                    self.hub.emit(
                        id,
                        "step",
                        &format!(
                            "starting {} after {}",
                            step.resource,
                            step.waits_description()
                        ),
                    );
                }
                if self.superseded(id, gen) {
                    return Err("superseded by a newer request".to_string());
                }
                let applies = mine
                    .iter()
                    .map(|(c, action)| self.apply_one(id, engine, stack, c, action));
                let errors: Vec<String> = futures_util::future::join_all(applies)
                    .await
                    .into_iter()
                    .filter_map(Result::err)
                    .collect();
                if !errors.is_empty() {
                    return Err(errors.join("; "));
                }
                // follow logs (new containers from their start)
                for c in &containers {
                    let fresh = mine
                        .iter()
                        .any(|(t, a)| t.name == c.name && !matches!(a, Action::Start));
                    self.follow_logs(id, &c.name, fresh, stack.logging);
                }
                Ok(())
            }
            .boxed()
            .shared();
            let host = host.clone();
            let after_start = started.clone();
            let ready = async move {
                after_start.await?;
                // readiness (SQL ping), then replication on each replica
                let checks = to_check.into_iter().map(|c| {
                    let host = host.clone();
                    async move {
                        let host_port = self.wait_ready(id, gen, engine, c, &host).await?;
                        // its volumes hold data now: never re-created empty
                        let names: Vec<&str> = c.volumes.iter().map(|v| v.name.as_str()).collect();
                        self.store
                            .add_data_volumes(id, &names)
                            .map_err(|e| e.to_string())?;
                        if matches!(c.probe, Probe::Mysql { replica: true, .. }) {
                            self.wait_replication(id, gen, engine, c, &host).await?;
                            // new (or restarted) replicas catch up before they
                            // take reads; one already serving keeps serving
                            let serving = self
                                .endpoints
                                .net(id)
                                .backend(&c.name)
                                .is_some_and(|b| b.routable);
                            if !serving {
                                self.wait_caught_up(id, gen, engine, stack, c, &host)
                                    .await?;
                            }
                        }
                        self.route(id, c, host_port);
                        Ok::<(), String>(())
                    }
                });
                futures_util::future::try_join_all(checks).await?;
                Ok(())
            }
            .boxed()
            .shared();
            started_gates.insert(step.resource.as_str(), started);
            ready_gates.insert(step.resource.as_str(), ready);
        }
        futures_util::future::try_join_all(ready_gates.into_values()).await?;
        if self.superseded(id, gen) {
            return Err("superseded by a newer request".into());
        }
        self.store
            .set_status(id, Status::Running, None)
            .map_err(store_err)?;
        net.set_power(Power::Awake);
        net.touch();
        if waking {
            let took = self
                .wake_started
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(id);
            if let Some(t) = took {
                self.hub.emit(
                    id,
                    "step",
                    &format!("woke in {} ms", t.elapsed().as_millis()),
                );
            }
        }
        self.hub.emit(id, "status", "running");
        self.keep_spares_warm(id, gen, engine, &stack, &observed, &net)
            .await;
        Ok(Some(Status::Running))
    }

    /// The deployment's network is missing (removed behind our back): create
    /// it again and remove the containers that were attached to the old one
    /// (Docker cannot start them: "network … not found"). Their named volumes
    /// stay, so the reconcile step re-creates them with their data.
    async fn replace_network(
        &self,
        id: &str,
        engine: &Engine,
        stack: &DesiredStack,
        observed: &Observed,
    ) -> StepResult<()> {
        let docker_err = |what: &str, e: crate::provision::EngineError| format!("{what}: {e}");
        if engine
            .ensure_network(stack)
            .await
            .map_err(|e| docker_err("creating the network", e))?
        {
            let how = if observed.containers.is_empty() {
                "created"
            } else {
                "was missing: created again"
            };
            self.hub
                .emit(id, "step", &format!("network {} {how}", stack.network));
        }
        let net = self.endpoints.net(id);
        for o in &observed.containers {
            net.set_routable(&o.name, false);
            engine
                .remove_container(&o.id)
                .await
                .map_err(|e| docker_err("removing a container of the missing network", e))?;
            self.hub.emit(
                id,
                "step",
                &format!(
                    "container {} removed: it was attached to the missing network (re-created, volumes kept)",
                    o.name
                ),
            );
        }
        Ok(())
    }

    async fn apply_one(
        &self,
        id: &str,
        engine: &Engine,
        stack: &DesiredStack,
        c: &DesiredContainer,
        action: &Action,
    ) -> StepResult<()> {
        let docker_err = |what: &str, e: crate::provision::EngineError| format!("{what}: {e}");
        match action {
            Action::Start => {
                engine
                    .start(&c.name)
                    .await
                    .map_err(|e| docker_err(&format!("starting {}", c.name), e))?;
                self.hub
                    .emit(id, "step", &format!("container {} started", c.name));
            }
            Action::Create | Action::Recreate(_) => {
                if matches!(action, Action::Recreate(_)) {
                    engine
                        .remove_container(&c.name)
                        .await
                        .map_err(|e| docker_err("replacing a container", e))?;
                    self.hub.emit(
                        id,
                        "step",
                        &format!("container {} removed to apply new settings", c.name),
                    );
                }
                for v in &c.volumes {
                    if engine
                        .ensure_volume(id, c, &v.name)
                        .await
                        .map_err(|e| docker_err("creating a volume", e))?
                    {
                        self.hub.emit(
                            id,
                            "step",
                            &format!("volume {} created (mounted at {})", v.name, v.target),
                        );
                    }
                }
                let keep = match action {
                    Action::Recreate(ports) => ports.clone(),
                    _ => Default::default(),
                };
                engine
                    .create_container(stack, c, &keep)
                    .await
                    .map_err(|e| docker_err(&format!("creating {}", c.name), e))?;
                self.counters
                    .containers_created
                    .fetch_add(1, Ordering::Relaxed);
                self.hub.emit(
                    id,
                    "step",
                    &format!("container {} started (image {})", c.name, c.image),
                );
            }
        }
        Ok(())
    }

    fn follow_logs(
        self: &Arc<Self>,
        deployment: &str,
        container: &str,
        from_start: bool,
        keep: bool,
    ) {
        let Some(engine) = self.engine() else {
            return;
        };
        {
            let mut f = self.followed.lock().unwrap_or_else(|e| e.into_inner());
            if !f.insert(container.to_owned()) {
                return;
            }
        }
        let since = if from_start {
            0
        } else {
            crate::store::now_ms() / 1000
        };
        let this = self.clone();
        let deployment = deployment.to_owned();
        let container = container.to_owned();
        tokio::spawn(async move {
            let mut stream = engine.logs(&container, since);
            let mut partial = String::new();
            while let Some(item) = stream.next().await {
                let Ok(item) = item else { break };
                partial.push_str(&String::from_utf8_lossy(&item.into_bytes()));
                while let Some(pos) = partial.find('\n') {
                    let line: String = partial.drain(..=pos).collect();
                    let line = line.trim_end();
                    if !line.is_empty() {
                        let line =
                            format!("[{container}] {}", this.hub.redact_line(&deployment, line));
                        if let (true, Some(logs)) = (keep, &this.logs) {
                            if let Err(e) = logs.append(&deployment, crate::store::now_ms(), &line)
                            {
                                warn!(deployment = %deployment, "keeping a log line failed: {e}");
                            }
                        }
                        this.hub.record(&deployment, "log", line);
                    }
                }
            }
            this.followed
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&container);
        });
    }

    async fn wait_ready(
        &self,
        id: &str,
        gen: u64,
        engine: &Engine,
        c: &DesiredContainer,
        host: &str,
    ) -> StepResult<Option<u16>> {
        // the published port, once known (0: not yet)
        let host_port = AtomicU32::new(0);
        let cached = &host_port;
        let limit = self.timeouts.ready;
        self.retry(
            id,
            gen,
            limit,
            Duration::from_millis(50),
            move || async move {
                match engine.container_state(&c.name).await {
                    Ok(None) => return Try::Fail(format!("{} vanished while starting", c.name)),
                    Ok(Some((state, code)))
                        if state == "exited" || state == "dead" || state == "restarting" =>
                    {
                        let tail = engine.tail(&c.name, 8).await.join(" | ");
                        return Try::Fail(format!(
                            "{} exited (code {}) before it was ready; last output: {}",
                            c.name,
                            code.unwrap_or(-1),
                            tail
                        ));
                    }
                    Ok(Some(_)) | Err(_) => {}
                }
                match self.probe_once(engine, c, host, cached).await {
                    Ok(()) => Try::Done(()),
                    Err(e) => Try::NotYet(e),
                }
            },
        )
        .await
        .map_err(|e| {
            e.timed_out(|last| {
                format!(
                    "{} was not ready within {} s (last error: {last})",
                    c.name,
                    limit.as_secs()
                )
            })
        })?;
        let how = match c.probe {
            Probe::Mysql { .. } => "SQL ping",
            Probe::Tcp => "TCP connect",
            Probe::None => "running",
        };
        self.hub
            .emit(id, "step", &format!("{} ready ({how})", c.name));
        Ok(u16::try_from(host_port.load(Ordering::Relaxed))
            .ok()
            .filter(|p| *p != 0))
    }

    /// Run `attempt` every `every` until it is done or fails for good, the
    /// step is superseded by a newer request, or `limit` passes.
    pub(super) async fn retry<T, F>(
        &self,
        id: &str,
        gen: u64,
        limit: Duration,
        every: Duration,
        mut attempt: impl FnMut() -> F,
    ) -> Result<T, WaitError>
    where
        F: std::future::Future<Output = Try<T>>,
    {
        let deadline = Instant::now() + limit;
        loop {
            if self.superseded(id, gen) {
                return Err(WaitError::Failed("superseded by a newer request".into()));
            }
            let last = match attempt().await {
                Try::Done(v) => return Ok(v),
                Try::Fail(e) => return Err(WaitError::Failed(e)),
                Try::NotYet(why) => why,
            };
            if Instant::now() >= deadline {
                return Err(WaitError::TimedOut(last));
            }
            tokio::time::sleep(every).await;
        }
    }

    async fn probe_once(
        &self,
        engine: &Engine,
        c: &DesiredContainer,
        host: &str,
        cached_port: &AtomicU32,
    ) -> StepResult<()> {
        let port = match c.ports.first() {
            None => return Ok(()),
            Some(p) => *p,
        };
        let host_port = match cached_port.load(Ordering::Relaxed) {
            p @ 1.. => p as u16,
            0 => {
                let ports = engine
                    .host_ports(&c.name)
                    .await
                    .map_err(|e| e.to_string())?;
                let p = *ports
                    .get(&port)
                    .ok_or_else(|| format!("port {port} of {} is not published yet", c.name))?;
                cached_port.store(u32::from(p), Ordering::Relaxed);
                p
            }
        };
        match &c.probe {
            Probe::None => Ok(()),
            Probe::Tcp => tokio::time::timeout(
                Duration::from_secs(2),
                tokio::net::TcpStream::connect((host, host_port)),
            )
            .await
            .map_err(|_| "connect timed out".to_string())?
            .map(|_| ())
            .map_err(|e| e.to_string()),
            Probe::Mysql { user, password, .. } => {
                let mut conn = Conn::connect(
                    host,
                    host_port,
                    user,
                    password,
                    None,
                    Duration::from_secs(3),
                )
                .await
                .map_err(|e| e.to_string())?;
                let r = conn.query_timeout("SELECT 1", Duration::from_secs(3)).await;
                conn.close().await;
                r.map(|_| ()).map_err(|e| e.to_string())
            }
        }
    }

    async fn wait_replication(
        &self,
        id: &str,
        gen: u64,
        engine: &Engine,
        c: &DesiredContainer,
        host: &str,
    ) -> StepResult<()> {
        let limit = self.timeouts.replication;
        let h = self
            .retry(
                id,
                gen,
                limit,
                Duration::from_millis(50),
                move || async move {
                    match self.replication_of(engine, c, host).await {
                        Ok(Some(h)) if h.healthy() => Try::Done(h),
                        Ok(Some(h)) => Try::NotYet(format!(
                            "io={} sql={}{}",
                            h.io_running,
                            h.sql_running,
                            h.last_error.map(|e| format!(" ({e})")).unwrap_or_default()
                        )),
                        Ok(None) => Try::NotYet("replication is not configured".into()),
                        Err(e) => Try::NotYet(e),
                    }
                },
            )
            .await
            .map_err(|e| {
                e.timed_out(|last| {
                    format!(
                        "replication on {} was not running within {} s (last: {last})",
                        c.name,
                        limit.as_secs()
                    )
                })
            })?;
        self.hub.emit(
            id,
            "step",
            &format!(
                "replication verified on {} (Slave_IO_Running=Yes, Slave_SQL_Running=Yes, Seconds_Behind_Master={})",
                c.name,
                h.seconds_behind_master
                    .map(|s| s.to_string())
                    .unwrap_or_else(|| "NULL".into())
            ),
        );
        Ok(())
    }

    /// `SHOW SLAVE STATUS` of a replica container through its published port.
    pub async fn replication_of(
        &self,
        engine: &Engine,
        c: &DesiredContainer,
        host: &str,
    ) -> StepResult<Option<ReplicationHealth>> {
        if !matches!(c.probe, Probe::Mysql { .. }) {
            return Ok(None);
        }
        let mut conn = self.probe_conn(engine, c, host).await?;
        let r = mysql::replication_status(&mut conn).await;
        conn.close().await;
        r.map_err(|e| e.to_string())
    }

    /// A connection to `c`'s first port, published on `host`, as its probe
    /// (root) user.
    pub(super) async fn probe_conn(
        &self,
        engine: &Engine,
        c: &DesiredContainer,
        host: &str,
    ) -> StepResult<Conn> {
        let Probe::Mysql { user, password, .. } = &c.probe else {
            return Err(format!("{} does not speak MySQL", c.name));
        };
        let port = *c.ports.first().ok_or("no port")?;
        let ports = engine
            .host_ports(&c.name)
            .await
            .map_err(|e| e.to_string())?;
        let host_port = *ports.get(&port).ok_or("port not published")?;
        Conn::connect(
            host,
            host_port,
            user,
            password,
            None,
            Duration::from_secs(3),
        )
        .await
        .map_err(|e| e.to_string())
    }

    /// On start: keep labelled objects no record owns as orphans (removed only
    /// with `--prune-orphans`), then reconcile every
    /// record (repairing vanished containers, finishing interrupted work).
    pub async fn startup(self: &Arc<Self>) {
        let records = match self.store.list_deployments() {
            Ok(r) => r,
            Err(e) => {
                warn!("reading deployments failed: {e}");
                return;
            }
        };
        if let Some(engine) = &self.engine() {
            self.adopt_orphans(engine).await;
        }
        for rec in records {
            self.register_secrets(&rec, self.plan_record(&rec).ok().as_ref());
            self.kick(&rec.id);
        }
    }

    /// Every `every`, look at deployments that reached `running`/`degraded`
    /// and reconcile those whose containers vanished or stopped (repair).
    pub fn spawn_watch(self: &Arc<Self>, every: Duration) {
        let this = self.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                if this.engine().is_none() {
                    continue;
                }
                let Ok(records) = this.store.list_deployments() else {
                    continue;
                };
                for rec in records {
                    if rec.desired != Desired::Running
                        || !matches!(rec.status, Status::Running | Status::Degraded)
                        || this.has_lost_data(&rec.id)
                    {
                        continue;
                    }
                    let Ok(stack) = this.plan_record(&rec) else {
                        continue;
                    };
                    let Some(observed) = this.observe(&rec.id).await else {
                        continue;
                    };
                    let broken: Vec<&DesiredContainer> = stack
                        .active()
                        .filter(|c| {
                            !observed
                                .containers
                                .iter()
                                .any(|o| o.name == c.name && o.running())
                        })
                        .collect();
                    // a running step is left alone, unless data vanished
                    // under it (its waits would never end)
                    if this.busy(&rec.id) && !this.volume_vanished(&rec.id, &broken, &observed) {
                        continue;
                    }
                    let broken: Vec<&str> = broken.iter().map(|c| c.name.as_str()).collect();
                    if !broken.is_empty() {
                        this.hub.emit(
                            &rec.id,
                            "step",
                            &format!("repairing: {} not running", broken.join(", ")),
                        );
                        this.kick(&rec.id);
                    }
                }
            }
        });
    }

    /// Observe one deployment now (for `GET /api/deployments/{id}`).
    pub async fn observe(&self, id: &str) -> Option<Observed> {
        let engine = self.engine()?;
        tokio::time::timeout(Duration::from_secs(5), engine.observe(id))
            .await
            .ok()?
            .ok()
    }
}

/// One try of a wait ([`Controller::retry`]).
pub(super) enum Try<T> {
    Done(T),
    /// Not yet, and why (reported if the wait times out).
    NotYet(String),
    /// Failed for good: stop waiting.
    Fail(String),
}

/// Why a wait ended without its result.
pub(super) enum WaitError {
    Failed(String),
    /// The limit passed; the last reason it was not done yet.
    TimedOut(String),
}

impl WaitError {
    /// The step's error message, with `timeout` wording a timed-out wait.
    pub(super) fn timed_out(self, timeout: impl FnOnce(&str) -> String) -> String {
        match self {
            WaitError::Failed(e) => e,
            WaitError::TimedOut(last) => timeout(&last),
        }
    }
}

enum Action {
    Create,
    /// Replace it, keeping these host ports (container port → host port).
    Recreate(std::collections::BTreeMap<u16, u16>),
    Start,
}

/// Where a listener bound to `bind` is reached from this host.
pub fn backend_host(bind: &str) -> String {
    match bind {
        "" | "0.0.0.0" | "::" => "127.0.0.1".into(),
        other => other.to_owned(),
    }
}

pub fn missing_image_message(image: &str, error: &str) -> String {
    format!(
        "image `{image}` is not available locally and could not be pulled ({error}). \
         Without a registry, build it with `bash images/mysql/build.sh` and start the server with \
         `--image-map 'docker.io/bitnami/mysql:*=specstudio/mysql:local'`"
    )
}
