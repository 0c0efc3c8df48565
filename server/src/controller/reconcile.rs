//! One reconcile step: plan the record, [`diff`] it against what the engine
//! reports, apply the actions (pulls, network, drains and removals, then the
//! creates and starts in dependency order), wait for readiness, route, and
//! record the outcome through the [`Lifecycle`](super::Lifecycle).
//!
//! Every action is idempotent and the diff is recomputed from the engine at
//! the start of each step, so a step that fails (or a server killed) after
//! any action is finished by the next one.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::Ordering;
use std::sync::Arc;

use futures_util::future::{BoxFuture, Shared};
use futures_util::FutureExt;

use super::diff::{diff, Action};
use super::{Controller, ReconcileError};
use crate::docker::{Engine, Observed};
use crate::plan::{DesiredContainer, DesiredStack, Probe};
use crate::store::{DeploymentRecord, Desired, Status};

type Result<T> = std::result::Result<T, ReconcileError>;

/// A service's start-and-ready work, awaited by the services that wait for it
/// (shared, so its error is too).
type Gate<'a> = Shared<BoxFuture<'a, std::result::Result<(), Arc<ReconcileError>>>>;

/// The error of a shared gate, owned again.
fn unshare(e: Arc<ReconcileError>) -> ReconcileError {
    Arc::try_unwrap(e).unwrap_or_else(|e| match &*e {
        ReconcileError::Superseded => ReconcileError::Superseded,
        other => ReconcileError::NotReady(other.to_string()),
    })
}

impl Controller {
    pub(super) async fn reconcile_step(
        self: &Arc<Self>,
        id: &str,
        gen: u64,
    ) -> Result<Option<Status>> {
        // never act on records read from a database file that is gone
        self.store.check_file()?;
        let Some(rec) = self.store.get_deployment(id)? else {
            return Ok(None);
        };
        let engine = self.engine().ok_or(ReconcileError::NoEngine)?;
        let engine = &*engine;
        if rec.desired == Desired::Deleted {
            self.delete_step(id, &rec, engine).await?;
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
        let planned = Arc::new(stack.clone());
        self.with_runtime(id, |rt| rt.stack = Some(planned));
        self.sync_endpoints(id, &stack).await?;
        match rec.desired {
            Desired::Stopped => return self.sleep(id, &rec, &stack, engine).await,
            Desired::Paused => return self.pause(id, gen, &rec, &stack, engine).await,
            _ => {}
        }
        self.run_step(id, gen, &rec, &stack, engine).await
    }

    /// Remove every object, then the record.
    async fn delete_step(
        &self,
        id: &str,
        rec: &DeploymentRecord,
        engine: &dyn Engine,
    ) -> Result<()> {
        self.lifecycle(id).deleting(rec.status)?;
        let removed = engine
            .teardown(id)
            .await
            .map_err(ReconcileError::engine("removing the deployment's objects"))?;
        self.hub.step(
            id,
            &format!(
                "removed {} container(s), {} volume(s), {} network(s)",
                removed.containers.len(),
                removed.volumes.len(),
                removed.networks.len()
            ),
        );
        self.forget_runtime(id);
        if let Some(logs) = &self.logs {
            logs.remove(id);
        }
        self.lifecycle(id).deleted()?;
        Ok(())
    }

    async fn observe_now(&self, id: &str, engine: &dyn Engine) -> Result<Observed> {
        engine
            .observe(id)
            .await
            .map_err(ReconcileError::engine("listing the deployment's objects"))
    }

    /// Desired `running`: make the objects match and wait until ready.
    async fn run_step(
        self: &Arc<Self>,
        id: &str,
        gen: u64,
        rec: &DeploymentRecord,
        stack: &DesiredStack,
        engine: &dyn Engine,
    ) -> Result<Option<Status>> {
        let net = self.endpoints.net(id);
        let waking = rec.status == Status::Waking;
        self.lifecycle(id).begin_wake();
        if let Some(status) = self.handle_lost_nodes(id, stack, engine).await? {
            return Ok(Some(status));
        }
        // replicas of a down node are re-created: `degraded` until running
        let node_repair = self.nodes_lost(id);
        let mut observed = self.observe_now(id, engine).await?;
        let network_missing = !observed.networks.contains(&stack.network);
        if network_missing {
            self.replace_network(id, engine, stack, &observed).await?;
            observed = self.observe_now(id, engine).await?;
        }
        let d = diff(stack, &observed);
        if let Some(status) = self.hold_lost_data(id, &d.todo, &observed)? {
            return Ok(Some(status));
        }
        let changes = !d.is_empty() || network_missing;
        if (changes || rec.status != Status::Running)
            && !matches!(rec.status, Status::Provisioning | Status::Waking)
            && !node_repair
        {
            self.lifecycle(id).provisioning()?;
        }
        // only what this step needs (a wake from stopped starts kept
        // containers: no image to check, the network just observed)
        self.ensure_images(id, engine, &d.todo).await?;
        if !observed.networks.contains(&stack.network)
            && engine
                .ensure_network(stack)
                .await
                .map_err(ReconcileError::engine("creating the network"))?
        {
            self.hub
                .step(id, &format!("network {} created", stack.network));
        }
        // containers about to restart take no new connection
        for (c, _) in &d.todo {
            net.set_routable(&c.name, false);
        }
        // scale down / leftovers first, each drained of its clients; the
        // volumes to drop are marked first, so a crash in between cannot
        // leave one for a later scale-up to reuse
        let stale = self.retire_volumes(id, stack, &observed, &d.retired_volumes)?;
        for o in &d.extra {
            self.drain(id, &net, &o.name).await;
            engine
                .remove_container(&o.id)
                .await
                .map_err(ReconcileError::engine("removing a container"))?;
            net.remove_backend(&o.name);
            self.hub.step(id, &format!("container {} removed", o.name));
        }
        if !d.extra.is_empty() {
            super::crash_point("scale-down-volumes");
        }
        self.remove_retired_volumes(id, engine, &d.retired_volumes, &stale)
            .await?;
        self.check_current(id, gen)?;
        // the volumes just removed are no longer known to exist
        let kept: Vec<String> = observed
            .volumes
            .iter()
            .filter(|v| !stale.contains(&v.as_str()) && !d.retired_volumes.contains(&v.as_str()))
            .cloned()
            .collect();
        let started = self
            .start_in_order(id, gen, stack, engine, &d.todo, &kept, waking)
            .await;
        for note in engine.take_notes(id) {
            self.hub.step(id, &note);
        }
        started?;
        self.check_current(id, gen)?;
        let woke = self
            .with_runtime(id, |rt| rt.wake_started.take())
            .filter(|_| waking)
            .map(|t| t.elapsed());
        self.lifecycle(id).running(woke)?;
        self.keep_spares_warm(id, gen, engine, stack, &observed, &net)
            .await;
        Ok(Some(Status::Running))
    }

    /// Pull the missing images of the containers about to be created.
    async fn ensure_images(
        &self,
        id: &str,
        engine: &dyn Engine,
        todo: &[(&DesiredContainer, Action)],
    ) -> Result<()> {
        let images: BTreeSet<&str> = todo
            .iter()
            .filter(|(_, a)| matches!(a, Action::Create | Action::Recreate(_)))
            .map(|(c, _)| c.image.as_str())
            .collect();
        for image in images {
            if !engine
                .image_exists(image)
                .await
                .map_err(ReconcileError::engine("inspecting images"))?
            {
                self.hub.step(id, &format!("pulling image {image}"));
                engine
                    .pull(image, self.timeouts.image_pull)
                    .await
                    .map_err(|source| ReconcileError::Image {
                        image: image.to_owned(),
                        source,
                    })?;
                self.hub.step(id, &format!("pulled image {image}"));
            }
        }
        Ok(())
    }

    /// Services start in dependency order (`DesiredStack::start_order`, from
    /// the spec graph). Each service has two gates: `started` (its containers
    /// are created and running) and `ready` (SQL ping, and on replicas
    /// replication). A service's containers are created once the services in
    /// `after` are started and those in `after_ready` (`condition:
    /// service_healthy`) are ready: a replica's own entrypoint waits for its
    /// master, so the two boot side by side. Independent services and one
    /// service's containers proceed concurrently; the first failure ends the
    /// step. `waking`: a client waits for the first services only, so every
    /// dependency is awaited ready (a replica booting beside its master takes
    /// half of a two-core machine from the start the client waits for).
    /// `volumes`: the deployment's volumes just observed (not asked again).
    #[allow(clippy::too_many_arguments)]
    async fn start_in_order(
        self: &Arc<Self>,
        id: &str,
        gen: u64,
        stack: &DesiredStack,
        engine: &dyn Engine,
        todo: &[(&DesiredContainer, Action)],
        volumes: &[String],
        waking: bool,
    ) -> Result<()> {
        let host = self.probe_host();
        let mut started_gates: BTreeMap<&str, Gate<'_>> = BTreeMap::new();
        let mut ready_gates: BTreeMap<&str, Gate<'_>> = BTreeMap::new();
        for step in &stack.start_order {
            let waits: Vec<Gate<'_>> = step
                .after
                .iter()
                .filter_map(|d| {
                    let gates = if waking { &ready_gates } else { &started_gates };
                    gates.get(d.as_str()).cloned()
                })
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
            let started = async move {
                futures_util::future::try_join_all(waits).await?;
                let mine: Vec<_> = todo
                    .iter()
                    .filter(|(c, _)| c.resource == step.resource)
                    .collect();
                if !mine.is_empty() && !step.after.is_empty() {
                    self.hub.step(
                        id,
                        &format!(
                            "starting {} after {}",
                            step.resource,
                            step.waits_description()
                        ),
                    );
                }
                self.check_current(id, gen).map_err(Arc::new)?;
                let applies = mine
                    .iter()
                    .map(|(c, action)| self.apply_one(id, engine, stack, c, action, volumes));
                let errors: Vec<ReconcileError> = futures_util::future::join_all(applies)
                    .await
                    .into_iter()
                    .filter_map(std::result::Result::err)
                    .collect();
                match errors.len() {
                    0 => {}
                    1 => return Err(Arc::new(errors.into_iter().next().expect("one"))),
                    _ => return Err(Arc::new(ReconcileError::Several(errors))),
                }
                // follow logs (new containers from their start)
                for c in &containers {
                    let fresh = mine.iter().any(|(t, a)| {
                        t.name == c.name && !matches!(a, Action::Start | Action::Unpause)
                    });
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
                let checks = to_check.into_iter().map(|c| {
                    let host = host.clone();
                    async move {
                        self.bring_up(id, gen, engine, stack, c, &host, waking)
                            .await
                    }
                });
                futures_util::future::try_join_all(checks)
                    .await
                    .map_err(Arc::new)?;
                Ok(())
            }
            .boxed()
            .shared();
            started_gates.insert(step.resource.as_str(), started);
            ready_gates.insert(step.resource.as_str(), ready);
        }
        futures_util::future::try_join_all(ready_gates.into_values())
            .await
            .map_err(unshare)?;
        Ok(())
    }

    /// A started container: ready (SQL ping), replicating and caught up
    /// (replicas), then routed. `waking`: a client waits, and a MySQL
    /// master is routed on its first handshake, before the SQL ping
    /// ([`Controller::route_on_greeting`]).
    #[allow(clippy::too_many_arguments)]
    async fn bring_up(
        &self,
        id: &str,
        gen: u64,
        engine: &dyn Engine,
        stack: &DesiredStack,
        c: &DesiredContainer,
        host: &str,
        waking: bool,
    ) -> Result<()> {
        if waking && matches!(c.probe, Probe::Mysql { replica: false, .. }) {
            self.route_on_greeting(id, gen, engine, c).await;
        }
        let host_port = self.wait_ready(id, gen, engine, c, host).await?;
        // its volumes hold data now: never re-created empty
        let names: Vec<&str> = c.volumes.iter().map(|v| v.name.as_str()).collect();
        self.store.add_data_volumes(id, &names)?;
        if matches!(c.probe, Probe::Mysql { replica: true, .. }) {
            self.wait_replication(id, gen, engine, c, host).await?;
            // new (or restarted) replicas catch up before they take reads;
            // one already serving keeps serving
            let serving = self
                .endpoints
                .net(id)
                .backend(&c.name)
                .is_some_and(|b| b.routable);
            if !serving {
                self.wait_caught_up(id, gen, engine, stack, c, host).await?;
            }
        }
        self.route(id, c, host_port);
        Ok(())
    }

    /// The deployment's network is missing (removed behind our back): create
    /// it again and remove the containers that were attached to the old one
    /// (Docker cannot start them: "network … not found"). Their named volumes
    /// stay, so the reconcile step re-creates them with their data.
    async fn replace_network(
        &self,
        id: &str,
        engine: &dyn Engine,
        stack: &DesiredStack,
        observed: &Observed,
    ) -> Result<()> {
        if engine
            .ensure_network(stack)
            .await
            .map_err(ReconcileError::engine("creating the network"))?
        {
            let how = if observed.containers.is_empty() {
                "created"
            } else {
                "was missing: created again"
            };
            self.hub
                .step(id, &format!("network {} {how}", stack.network));
        }
        let net = self.endpoints.net(id);
        for o in &observed.containers {
            net.set_routable(&o.name, false);
            engine
                .remove_container(&o.id)
                .await
                .map_err(ReconcileError::engine(
                    "removing a container of the missing network",
                ))?;
            self.hub.step(
                id,
                &format!(
                    "container {} removed: it was attached to the missing network (re-created, volumes kept)",
                    o.name
                ),
            );
        }
        Ok(())
    }

    /// Create (with its volumes; `volumes`: those known to exist), replace
    /// or start one container.
    pub(super) async fn apply_one(
        &self,
        id: &str,
        engine: &dyn Engine,
        stack: &DesiredStack,
        c: &DesiredContainer,
        action: &Action,
        volumes: &[String],
    ) -> Result<()> {
        match action {
            Action::Start => {
                engine
                    .start(&c.name)
                    .await
                    .map_err(ReconcileError::engine(format!("starting {}", c.name)))?;
                self.hub.step(id, &format!("container {} started", c.name));
            }
            Action::Unpause => {
                engine
                    .unpause(&c.name)
                    .await
                    .map_err(ReconcileError::engine(format!("unpausing {}", c.name)))?;
                self.hub.step(id, &format!("container {} unpaused", c.name));
            }
            Action::Create | Action::Recreate(_) => {
                if matches!(action, Action::Recreate(_)) {
                    engine
                        .remove_container(&c.name)
                        .await
                        .map_err(ReconcileError::engine("replacing a container"))?;
                    self.hub.step(
                        id,
                        &format!("container {} removed to apply new settings", c.name),
                    );
                }
                self.ensure_volumes_except(id, engine, c, true, volumes)
                    .await?;
                let keep = match action {
                    Action::Recreate(ports) => ports.clone(),
                    _ => Default::default(),
                };
                engine
                    .create_container(stack, c, &keep)
                    .await
                    .map_err(ReconcileError::engine(format!("creating {}", c.name)))?;
                self.counters
                    .containers_created
                    .fetch_add(1, Ordering::Relaxed);
                self.hub.step(
                    id,
                    &format!("container {} started (image {})", c.name, c.image),
                );
            }
        }
        Ok(())
    }

    /// Create `c`'s volumes that do not exist (`announce`: say so).
    pub(super) async fn ensure_volumes(
        &self,
        id: &str,
        engine: &dyn Engine,
        c: &DesiredContainer,
        announce: bool,
    ) -> Result<()> {
        self.ensure_volumes_except(id, engine, c, announce, &[])
            .await
    }

    /// [`Controller::ensure_volumes`], without asking the engine about the
    /// volumes in `known` (just observed: a wake starts sooner).
    async fn ensure_volumes_except(
        &self,
        id: &str,
        engine: &dyn Engine,
        c: &DesiredContainer,
        announce: bool,
        known: &[String],
    ) -> Result<()> {
        for v in c.volumes.iter().filter(|v| !known.contains(&v.name)) {
            let created = engine
                .ensure_volume(id, c, &v.name)
                .await
                .map_err(ReconcileError::engine("creating a volume"))?;
            if created && announce {
                self.hub.step(
                    id,
                    &format!("volume {} created (mounted at {})", v.name, v.target),
                );
            }
        }
        Ok(())
    }
}
