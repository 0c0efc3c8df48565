//! The controller: it moves each deployment's observed objects (an
//! [`Engine`]'s labelled containers, networks and volumes) toward its desired
//! stack (the stored record planned into a [`DesiredStack`]), checks readiness
//! (a real SQL ping or TCP connect through the published loopback port) and
//! replication on every replica, and runs the control loops around it.
//!
//! - [`queue`](self::queue): one reconcile at a time per deployment, requests
//!   coalesced; a newer request supersedes the running one's waits.
//! - `lifecycle.rs`: every change of a deployment's status, desired state and
//!   power, each with its typed event, in one place.
//! - `diff.rs`: the pure desired-vs-observed diff; `reconcile.rs` applies it.
//! - `analyses.rs`: the stored specs' analyses, kept per spec id (bounded).
//! - `readiness.rs`: the single readiness / replication / catch-up check.
//! - `sleep.rs`, `spares.rs`, `autoscaling.rs`, `startup.rs`, `routing.rs`,
//!   `reseed.rs`, `retire.rs`, `orphans.rs`, `follow.rs`, `replication.rs`, `lost_nodes.rs`:
//!   one concern each.
//!
//! **State.** What the controller keeps in memory about a deployment (its
//! reconcile queue, generation, last plan, wake and scale timers, autoscaling
//! windows, lost volumes, followed logs, rechecks, last replication sample)
//! lives in one [`Runtime`] per deployment, behind one mutex: every concern
//! reads and changes it through [`Controller::with_runtime`], so forgetting a
//! deployment is one removal and no two maps can disagree. The lock is never
//! held across an `.await`.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tracing::warn;

mod analyses;
mod autoscaling;
mod diff;
mod error;
mod events;
mod follow;
pub mod lifecycle;
mod lost_nodes;
pub mod orphans;
mod queue;
mod readiness;
mod reconcile;
mod replication;
mod reseed;
mod retire;
mod routing;
mod sleep;
mod spares;
mod startup;
#[cfg(test)]
mod tests;

pub use diff::{diff, stale_volumes, Action, Diff};
pub use error::ReconcileError;
pub use events::EventHub;
pub use lifecycle::{Lifecycle, LifecycleEvent};
pub use replication::ReplicationSample;
pub use reseed::ReseedError;

use crate::autoscale::Window;
use crate::docker::Engine;
use crate::logs::LogKeeper;
use crate::plan::{self, DesiredStack, ImageMap, PlanContext};
use crate::proxy::{EndpointSettings, Endpoints};
use crate::store::{DeploymentRecord, Store};

/// The server's serverless, autoscaling and endpoint settings.
#[derive(Clone, Debug)]
pub struct RuntimeSettings {
    /// A deployment with auto-stop sleeps after this long without a client.
    pub idle_stop_after: Duration,
    /// The paused tier: a deployment with auto-stop is frozen after this
    /// long without a client (only when shorter than `idle_stop_after`);
    /// `None`: never paused.
    pub idle_pause_after: Option<Duration>,
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
            idle_pause_after: None,
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
    /// Deployments frozen by the paused tier (containers `docker pause`d).
    pub pauses: AtomicU64,
}

/// A scale-up under way: when it was decided, since when utilisation was
/// over the threshold, and the replica count it aims for.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ScaleUp {
    decided: Instant,
    over_since: Option<Instant>,
    target: u32,
}

/// Everything the controller keeps in memory about one deployment.
#[derive(Default)]
pub(crate) struct Runtime {
    /// A reconcile runs (its loop is spawned) for this deployment.
    running: bool,
    /// Another reconcile was asked for while one ran.
    again: bool,
    /// Bumped by every request: a reconcile of an older one is superseded.
    generation: u64,
    /// The last planned stack (for the control loops).
    stack: Option<Arc<DesiredStack>>,
    /// When the deployment began to wake.
    wake_started: Option<Instant>,
    /// service → the scale-up under way.
    scale_started: HashMap<String, ScaleUp>,
    /// service → its autoscaling window.
    windows: HashMap<String, Window>,
    /// (container, volume) pairs of lost data volumes, not re-created empty
    /// until a re-seed.
    data_lost: Option<Vec<(String, String)>>,
    /// Containers whose output is followed.
    followed: HashSet<String>,
    /// Containers being looked at again after a failed connection.
    rechecks: HashSet<String>,
    /// The replication health of each replica, sampled in the background.
    replication: Option<ReplicationSample>,
    /// Containers on a down node (a multi-node engine), as last reported.
    nodes_lost: Option<Vec<crate::docker::LostContainer>>,
    /// Why a container's CPU cannot be read (autoscaling is off meanwhile).
    usage_unreadable: Option<String>,
}

impl Runtime {
    /// Forget what belongs to a deleted deployment; keep the queue state of
    /// the reconcile that deletes it.
    fn forget(&mut self) {
        *self = Runtime {
            running: self.running,
            again: self.again,
            generation: self.generation,
            ..Runtime::default()
        };
    }
}

pub struct Controller {
    pub store: Arc<Store>,
    /// The container engine, once reachable (see [`Controller::connect_later`]).
    engine: std::sync::RwLock<Option<Arc<dyn Engine>>>,
    pub hub: Arc<EventHub>,
    pub images: ImageMap,
    pub host_cpus: f64,
    pub timeouts: Timeouts,
    pub counters: Counters,
    pub settings: RuntimeSettings,
    pub endpoints: Arc<Endpoints>,
    logs: Option<LogKeeper>,
    runtimes: Mutex<HashMap<String, Runtime>>,
    /// Analyses of stored specs, by spec id (`analyses.rs`).
    analyses: analyses::Analyses,
}

impl Controller {
    pub fn new(store: Arc<Store>, engine: Option<Arc<dyn Engine>>, images: ImageMap) -> Controller {
        Self::with_settings(store, engine, images, RuntimeSettings::default())
    }

    pub fn with_settings(
        store: Arc<Store>,
        engine: Option<Arc<dyn Engine>>,
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
            store,
            engine: std::sync::RwLock::new(engine),
            hub,
            images,
            host_cpus: std::thread::available_parallelism()
                .map(|n| n.get() as f64)
                .unwrap_or(1.0),
            timeouts: Timeouts::default(),
            counters: Counters::default(),
            runtimes: Mutex::new(HashMap::new()),
            analyses: analyses::Analyses::default(),
        }
    }

    /// The container engine, when reachable.
    pub fn engine(&self) -> Option<Arc<dyn Engine>> {
        self.engine
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn set_engine(&self, engine: Arc<dyn Engine>) {
        *self.engine.write().unwrap_or_else(|e| e.into_inner()) = Some(engine);
    }

    /// Read or change one deployment's in-memory state (never across an
    /// `.await`).
    pub(crate) fn with_runtime<R>(&self, id: &str, f: impl FnOnce(&mut Runtime) -> R) -> R {
        let mut all = self.runtimes.lock().unwrap_or_else(|e| e.into_inner());
        f(all.entry(id.to_owned()).or_default())
    }

    /// Forget a deleted deployment's in-memory state.
    pub(crate) fn forget_runtime(&self, id: &str) {
        let mut all = self.runtimes.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(rt) = all.get_mut(id) {
            rt.forget();
        }
    }

    /// Ids of the deployments with a planned stack, and their stacks.
    pub(crate) fn stacks(&self) -> Vec<(String, Arc<DesiredStack>)> {
        self.runtimes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter_map(|(id, rt)| Some((id.clone(), rt.stack.clone()?)))
            .collect()
    }

    /// The host the provisioner and clients reach published ports on.
    pub fn probe_host(&self) -> String {
        backend_host(self.engine().as_ref().map_or("", |e| e.bind_address()))
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
        self.with_runtime(id, |rt| rt.stack.clone())
    }

    /// The lifecycle of one deployment: its status changes and their events.
    pub fn lifecycle<'a>(&'a self, id: &'a str) -> Lifecycle<'a> {
        Lifecycle::new(&self.store, &self.hub, &self.endpoints, id)
    }

    /// Plan a stored record into its desired stack.
    pub fn plan_record(&self, rec: &DeploymentRecord) -> Result<DesiredStack, ReconcileError> {
        let analysis = self
            .analyses
            .get(&rec.spec_id, || self.store.get_spec(&rec.spec_id))?
            .ok_or_else(|| ReconcileError::SpecMissing(rec.spec_id.clone()))?;
        let overrides = self.store.replica_overrides(&rec.id)?;
        self.plan_in(&analysis, &rec.params, &rec.id, &overrides)
            .map_err(|issues| {
                ReconcileError::Plan(
                    issues
                        .iter()
                        .map(|i| i.message())
                        .collect::<Vec<_>>()
                        .join("; "),
                )
            })
    }

    /// Plan a request's stack (the API's create and patch): the same plan the
    /// reconcile makes (image map, CPUs, zones, allowed host keys, the
    /// deployment's own replica counts — none for a new one). Only checked
    /// here: a scale that cannot be read plans with the spec's counts, the
    /// reconcile itself never does.
    pub fn plan_request(
        &self,
        analysis: &shared::Analysis,
        params: &shared::params::ResolvedParams,
        id: &str,
    ) -> Result<DesiredStack, Vec<plan::PlanIssue>> {
        let overrides = self.store.replica_overrides(id).unwrap_or_default();
        self.plan_in(analysis, params, id, &overrides)
    }

    fn plan_in(
        &self,
        analysis: &shared::Analysis,
        params: &shared::params::ResolvedParams,
        id: &str,
        overrides: &BTreeMap<String, u32>,
    ) -> Result<DesiredStack, Vec<plan::PlanIssue>> {
        let stack = plan::plan_with(
            analysis,
            params,
            id,
            &PlanContext {
                images: Some(&self.images),
                host_cpus: self.host_cpus,
                zones: &self.settings.zones,
                replica_overrides: Some(overrides),
                allowed_host_keys: Some(&self.settings.allowed_host_keys),
            },
        )?;
        // not reachable yet: the reconcile plans again once it is
        let Some(engine) = self.engine() else {
            return Ok(stack);
        };
        let issues = engine_issues(engine.as_ref(), analysis, &stack);
        if issues.is_empty() {
            Ok(stack)
        } else {
            Err(issues)
        }
    }

    pub fn register_secrets(&self, rec: &DeploymentRecord, stack: Option<&DesiredStack>) {
        let mut values = rec.params.secret_values();
        if let Some(s) = stack {
            values.extend(s.secret_values());
        }
        self.hub.set_secrets(&rec.id, values);
    }
}

/// Test-only fault injection: with `SPECSTUDIO_CRASH_AT=<point>` the
/// process ends at that point as a crash would (no shutdown, nothing
/// finished), so the end-to-end tests can check what a restart finds.
/// Points: `scale-down-volumes` (a scale-down's containers removed, their
/// volumes not yet). Unset in normal use.
pub(crate) fn crash_point(point: &str) {
    if std::env::var("SPECSTUDIO_CRASH_AT").is_ok_and(|p| p == point) {
        tracing::error!("SPECSTUDIO_CRASH_AT={point}: exiting as a crash would");
        std::process::exit(86);
    }
}

/// The compose keys the engine would not apply, each a located issue (once
/// per service, not per replica): refused before anything is created,
/// never dropped.
fn engine_issues(
    engine: &dyn Engine,
    analysis: &shared::Analysis,
    stack: &DesiredStack,
) -> Vec<plan::PlanIssue> {
    let mut seen = BTreeSet::new();
    let mut issues = Vec::new();
    for c in &stack.containers {
        for key in engine.unsupported(c) {
            if !seen.insert((c.resource.clone(), key.clone())) {
                continue;
            }
            let path = match analysis.spec.service_index(&c.resource) {
                Some(i) => crate::runtime_opts::key_path(
                    &analysis.tree,
                    analysis.spec.services[i].node,
                    &key,
                ),
                None => format!("/services/{}/{key}", c.resource),
            };
            issues.push(plan::PlanIssue::ComposeKey {
                service: c.resource.clone(),
                message: format!(
                    "is not applied by the {} engine; deploy this spec on the docker engine or remove the key",
                    engine.kind()
                ),
                key,
                path,
            });
        }
    }
    issues
}

/// Where a listener bound to `bind` is reached from this host.
pub fn backend_host(bind: &str) -> String {
    match bind {
        "" | "0.0.0.0" | "::" => "127.0.0.1".into(),
        other => other.to_owned(),
    }
}

pub fn missing_image_message(image: &str, error: impl std::fmt::Display) -> String {
    format!(
        "image `{image}` is not available locally and could not be pulled ({error}). \
         Without a registry, build it with `bash images/mysql/build.sh` and start the server with \
         `--image-map 'docker.io/bitnami/mysql:*=specstudio/mysql:local'`"
    )
}
