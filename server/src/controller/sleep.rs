//! Sleep and wake: the serverless side of the controller.
//!
//! - A deployment whose services all enable `enableAutoStop` goes to sleep
//!   after `--idle-stop-after` without a client: desired state `stopped`,
//!   containers stopped in reverse start order, the first
//!   `minimumNodesInPool` of each service kept created (warm), the others
//!   removed; volumes are always kept.
//! - A client on a sleeping deployment's endpoint is held while it wakes
//!   (desired `running` again, the normal start path in dependency order).
//! - The paused tier: idle for `--idle-pause-after`, the containers are
//!   frozen (`docker pause`). A client thaws it on the fast path
//!   ([`Controller::thaw`]): the master is unpaused and routed as soon as its
//!   socket answers, the replicas unpaused after it and checked by the next
//!   reconcile.
//! - A backend that refused a connection is looked at again (recheck).

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tracing::{debug, info_span, Instrument};

use super::{Controller, ReconcileError};
use crate::docker::{ContainerState, Engine};
use crate::plan::{DesiredContainer, DesiredStack, Probe};
use crate::proxy::Power;
use crate::store::{DeploymentRecord, Desired, Status};

/// How long a thawed master may take to answer before the fast wake gives
/// way to the normal reconcile (its SQL readiness gate).
const THAW_ANSWER_LIMIT: Duration = Duration::from_secs(5);

impl Controller {
    /// Put a deployment to sleep (desired `stopped`): idempotent.
    pub(super) async fn sleep(
        self: &Arc<Self>,
        id: &str,
        rec: &DeploymentRecord,
        stack: &DesiredStack,
        engine: &dyn Engine,
    ) -> Result<Option<Status>, ReconcileError> {
        let net = self.endpoints.net(id);
        self.lifecycle(id).stop_routing();
        let observed = engine
            .observe(id)
            .await
            .map_err(ReconcileError::engine("listing the deployment's objects"))?;
        let running = observed
            .containers
            .iter()
            .any(|o| o.running() || o.status() == ContainerState::Paused);
        self.lifecycle(id).stopping(rec.status, running)?;
        let mut stopped = Vec::new();
        let mut kept = Vec::new();
        let mut removed = Vec::new();
        // replicas before their masters: the reverse of the start order
        for step in stack.start_order.iter().rev() {
            let warm = stack
                .service(&step.resource)
                .and_then(|s| s.serverless.as_ref())
                .map_or(0, |p| p.warm_pool);
            let mine: Vec<_> = observed
                .containers
                .iter()
                .filter(|o| o.resource == step.resource)
                .collect();
            let work = mine.iter().map(|o| async move {
                if o.status() == ContainerState::Paused {
                    // thawed first: a frozen process takes no signal
                    engine
                        .unpause(&o.name)
                        .await
                        .map_err(ReconcileError::engine(format!("unpausing {}", o.name)))?;
                }
                if o.running() || o.status() == ContainerState::Paused {
                    engine
                        .stop(&o.name, 30)
                        .await
                        .map_err(ReconcileError::engine(format!("stopping {}", o.name)))?;
                }
                let planned = stack.containers.iter().find(|c| c.name == o.name);
                // the first `warm` of the service, and spares, stay created
                let keep = planned.is_some_and(|c| o.replica < warm || c.spare);
                if !keep {
                    // named volumes stay: the data survives the sleep
                    engine
                        .remove_container(&o.id)
                        .await
                        .map_err(ReconcileError::engine(format!("removing {}", o.name)))?;
                }
                Ok::<bool, ReconcileError>(keep)
            });
            let results = futures_util::future::join_all(work).await;
            for (o, r) in mine.iter().zip(results) {
                let keep = r?;
                if o.running() || o.status() == ContainerState::Paused {
                    stopped.push(o.name.clone());
                }
                if keep {
                    kept.push(o.name.clone());
                } else {
                    removed.push(o.name.clone());
                    net.remove_backend(&o.name);
                }
            }
        }
        // leftovers of other services (a changed spec) go too
        for o in observed
            .containers
            .iter()
            .filter(|o| stack.step(&o.resource).is_none())
        {
            engine
                .remove_container(&o.id)
                .await
                .map_err(ReconcileError::engine(format!("removing {}", o.name)))?;
            removed.push(o.name.clone());
        }
        if self.lifecycle(id).stopped(rec.status)? {
            if !stopped.is_empty() {
                net.stops.fetch_add(1, Ordering::Relaxed);
            }
            let list = |v: &[String]| {
                if v.is_empty() {
                    "none".to_owned()
                } else {
                    v.join(", ")
                }
            };
            self.hub.step(id, &format!(
                    "asleep: {} container(s) stopped; kept warm (minimumNodesInPool): {}; removed, volumes kept: {}",
                    stopped.len(),
                    list(&kept),
                    list(&removed)
                ),
            );
            self.lifecycle(id).announce_stopped();
        }
        Ok(Some(Status::Stopped))
    }

    /// Wake a sleeping deployment (a client is waiting on an endpoint).
    ///
    /// From the paused tier (frozen, settled, no reconcile under way) the
    /// fast path [`Controller::thaw`] runs in the reconcile queue's place;
    /// otherwise (stopped, still pausing, a reconcile running) the normal
    /// reconcile wakes it.
    pub fn wake(self: &Arc<Self>, id: &str, reason: &str) {
        let Ok(Some(rec)) = self.store.get_deployment(id) else {
            return;
        };
        if !matches!(rec.desired, Desired::Stopped | Desired::Paused) {
            self.kick(id);
            return;
        }
        let frozen = rec.desired == Desired::Paused && rec.status == Status::Paused;
        if self.lifecycle(id).waking(reason).is_err() {
            return;
        }
        self.with_runtime(id, |rt| rt.wake_started = Some(Instant::now()));
        if !frozen || !self.claim_queue(id) {
            self.kick(id);
            return;
        }
        let this = self.clone();
        let id = id.to_owned();
        let span = info_span!(parent: None, "thaw", deployment = %id);
        tokio::spawn(
            async move {
                this.thaw(&id).await;
                // the normal reconcile checks (and routes) the replicas, or
                // finishes the wake when the fast path gave up
                this.with_runtime(&id, |rt| {
                    rt.running = false;
                    rt.again = false;
                });
                this.kick(&id);
            }
            .instrument(span),
        );
    }

    /// Take the reconcile queue's slot (no reconcile runs meanwhile; one
    /// asked for waits); `false` when a reconcile already runs.
    fn claim_queue(&self, id: &str) -> bool {
        self.with_runtime(id, |rt| {
            if rt.running {
                return false;
            }
            rt.running = true;
            rt.generation += 1;
            true
        })
    }

    /// The fast wake from the paused tier: the data and processes were
    /// frozen, not restarted, so the serving containers that are not
    /// replicas (the master) are unpaused and routed as soon as their
    /// socket answers (no SQL readiness gate), then the replicas are
    /// unpaused and the deployment is `running` (the same lifecycle
    /// transition as a reconcile's); the reconcile that follows checks the
    /// replicas' replication and routes them. `false` (nothing routed, the deployment still
    /// `waking`) when anything is not as the pause left it: the normal
    /// reconcile then does the whole wake.
    pub(super) async fn thaw(self: &Arc<Self>, id: &str) -> bool {
        let (Some(engine), Some(stack)) = (self.engine(), self.stack(id)) else {
            return false;
        };
        let net = self.endpoints.net(id);
        let (first, replicas): (Vec<&DesiredContainer>, Vec<&DesiredContainer>) = stack
            .active()
            .partition(|c| !matches!(c.probe, Probe::Mysql { replica: true, .. }));
        let thawed = futures_util::future::join_all(first.iter().map(|c| engine.unpause(&c.name)));
        for (c, r) in first.iter().zip(thawed.await) {
            if let Err(e) = r {
                debug!(container = %c.name, "fast wake gives way to the reconcile: {e}");
                return false;
            }
            self.hub.step(id, &format!("container {} unpaused", c.name));
        }
        let answered = first.iter().filter(|c| !c.ports.is_empty()).map(|c| {
            let port = net.backend(&c.name).and_then(|b| b.host_port);
            let greeting = matches!(c.probe, Probe::Mysql { .. });
            async move {
                let port = port?;
                self.endpoints
                    .backend_answers(&c.name, port, greeting, THAW_ANSWER_LIMIT)
                    .await
                    .then_some((*c, port))
            }
        });
        let answered = futures_util::future::join_all(answered).await;
        if answered.iter().any(Option::is_none) {
            return false;
        }
        for (c, port) in answered.into_iter().flatten() {
            self.route(id, c, Some(port));
        }
        // the held clients are served from here on; the replicas thaw before
        // the deployment is called `running` (a frozen container would show
        // it degraded), their replication is the reconcile's to check
        let thawed =
            futures_util::future::join_all(replicas.iter().map(|c| engine.unpause(&c.name)));
        for (c, r) in replicas.iter().zip(thawed.await) {
            match r {
                Ok(()) => self.hub.step(id, &format!("container {} unpaused", c.name)),
                Err(e) => debug!(container = %c.name, "left to the reconcile: {e}"),
            }
        }
        let woke = self.with_runtime(id, |rt| rt.wake_started.take());
        self.lifecycle(id)
            .running(woke.map(|t| t.elapsed()))
            .is_ok()
    }

    /// Put an idle deployment to sleep.
    pub fn stop_idle(self: &Arc<Self>, id: &str, idle: Duration) {
        let net = self.endpoints.net(id);
        if net.active.load(Ordering::Relaxed) > 0 {
            return;
        }
        if self.lifecycle(id).go_to_sleep().is_err() {
            return;
        }
        self.hub.step(
            id,
            &format!(
                "auto-stop: no client connection for {} s; stopping (volumes kept)",
                idle.as_secs()
            ),
        );
        self.kick(id);
    }

    /// Look at a backend again after a failed connection: wait until it is
    /// ready on its (possibly new) published port, then route it again.
    pub fn recheck(self: &Arc<Self>, id: &str, container: &str) {
        if !self.with_runtime(id, |rt| rt.rechecks.insert(container.to_owned())) {
            return;
        }
        let this = self.clone();
        let id = id.to_owned();
        let container = container.to_owned();
        let span = info_span!(parent: None, "recheck", deployment = %id, container = %container);
        tokio::spawn(
            async move {
                this.recheck_inner(&id, &container).await;
                this.with_runtime(&id, |rt| rt.rechecks.remove(&container));
            }
            .instrument(span),
        );
    }

    async fn recheck_inner(self: &Arc<Self>, id: &str, container: &str) {
        let (Some(engine), Some(stack)) = (self.engine(), self.stack(id)) else {
            return;
        };
        let engine = &*engine;
        let Some(c) = stack.containers.iter().find(|c| c.name == container) else {
            return;
        };
        let net = self.endpoints.net(id);
        let before = net.backend(container).and_then(|b| b.host_port);
        net.set_routable(container, false);
        let host = self.probe_host();
        let deadline = Instant::now() + self.timeouts.ready;
        while Instant::now() < deadline {
            if !matches!(self.store.get_deployment(id), Ok(Some(r)) if r.desired == Desired::Running)
                || net.power() != Power::Awake
            {
                // asleep, waking or deleted: the reconcile routes it
                return;
            }
            match engine.container_state(container).await {
                Ok(None) => {
                    self.kick(id);
                    return;
                }
                Ok(Some((state, _))) if state.gone_for_good(false) => {
                    self.kick(id);
                    return;
                }
                _ => {}
            }
            let published = std::sync::atomic::AtomicU32::new(0);
            if self.probe_once(engine, c, &host, &published).await.is_ok() {
                let port = u16::try_from(published.into_inner())
                    .ok()
                    .filter(|p| *p != 0);
                let replicating = !matches!(c.probe, Probe::Mysql { replica: true, .. })
                    || self
                        .replication_of(engine, c, &host)
                        .await
                        .is_ok_and(|h| h.is_some_and(|h| h.healthy()));
                if replicating {
                    net.set_backend(container, &c.resource, c.replica, port, true);
                    if port != before {
                        self.hub.step(id, &format!(
                                "{container} restarted: its endpoints now forward to its new published port"
                            ),
                        );
                    }
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Freeze an idle deployment's serving containers (desired `paused`):
    /// idempotent. Replicas before their masters, like a stop; superseded
    /// (a held client's wake) between services.
    pub(super) async fn pause(
        self: &Arc<Self>,
        id: &str,
        gen: u64,
        rec: &DeploymentRecord,
        stack: &DesiredStack,
        engine: &dyn Engine,
    ) -> Result<Option<Status>, ReconcileError> {
        let net = self.endpoints.net(id);
        net.unroute_all();
        let observed = engine
            .observe(id)
            .await
            .map_err(ReconcileError::engine("listing the deployment's objects"))?;
        let mut frozen = Vec::new();
        for step in stack.start_order.iter().rev() {
            // a client arrived meanwhile (its wake asked for a reconcile):
            // freeze no more, the next step thaws what froze
            self.check_current(id, gen)?;
            let running: Vec<_> = observed
                .containers
                .iter()
                .filter(|o| o.resource == step.resource && o.running())
                .collect();
            let work = running.iter().map(|o| engine.pause(&o.name));
            for (o, r) in running
                .iter()
                .zip(futures_util::future::join_all(work).await)
            {
                r.map_err(ReconcileError::engine(format!("pausing {}", o.name)))?;
                frozen.push(o.name.clone());
            }
        }
        if !frozen.is_empty() {
            self.counters.pauses.fetch_add(1, Ordering::Relaxed);
        }
        if self.lifecycle(id).paused(rec.status)? || !frozen.is_empty() {
            self.hub.step(
                id,
                &format!(
                    "paused: {} container(s) frozen, memory kept; a client thaws them",
                    frozen.len()
                ),
            );
        }
        Ok(Some(Status::Paused))
    }

    /// Freeze a briefly idle deployment (the paused tier).
    pub fn pause_idle(self: &Arc<Self>, id: &str, idle: Duration) {
        let net = self.endpoints.net(id);
        if net.active.load(Ordering::Relaxed) > 0 {
            return;
        }
        if self.lifecycle(id).go_to_pause().is_err() {
            return;
        }
        self.hub.step(
            id,
            &format!(
                "auto-pause: no client connection for {} s; pausing (memory kept)",
                idle.as_secs()
            ),
        );
        self.kick(id);
    }

    /// Every second (faster for short idle periods): freeze deployments
    /// whose services all enable auto-stop after `--idle-pause-after` (when
    /// shorter than the stop limit), and put them to sleep after
    /// `--idle-stop-after`.
    pub fn spawn_idle_stopper(self: &Arc<Self>) {
        let this = self.clone();
        let stop_after = self.settings.idle_stop_after;
        let pause_after = self.settings.idle_pause_after.filter(|p| *p < stop_after);
        let shortest = pause_after.unwrap_or(stop_after);
        let every = (shortest / 4).clamp(Duration::from_millis(200), Duration::from_secs(1));
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                // in memory first; the store is read only for a candidate
                let idle_ones: Vec<(String, Power, i64)> = this
                    .endpoints
                    .all()
                    .into_iter()
                    .filter(|net| {
                        matches!(net.power(), Power::Awake | Power::Paused)
                            && net.idle_ms() >= shortest.as_millis() as i64
                            && this.stack(&net.id).is_some_and(|s| s.auto_stop())
                            && !this.busy(&net.id)
                    })
                    .map(|net| (net.id.clone(), net.power(), net.idle_ms()))
                    .collect();
                for (id, power, idle_ms) in idle_ones {
                    let Ok(Some(rec)) = this.store.get_deployment(&id) else {
                        continue;
                    };
                    let settled = matches!(
                        (rec.desired, rec.status),
                        (Desired::Running, Status::Running) | (Desired::Paused, Status::Paused)
                    );
                    if !settled {
                        continue;
                    }
                    if idle_ms >= stop_after.as_millis() as i64 {
                        this.stop_idle(&id, stop_after);
                    } else if let (Some(p), Power::Awake) = (pause_after, power) {
                        this.pause_idle(&id, p);
                    }
                }
            }
        });
    }
}
