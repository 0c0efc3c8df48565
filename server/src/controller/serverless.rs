//! Endpoints, sleep and wake: the serverless side of the controller.
//!
//! - Every reconcile makes the deployment's listeners match its stack
//!   ([`Controller::sync_endpoints`]) and routes a container once it is ready
//!   (replicas also caught up with their master).
//! - A deployment whose services all enable `enableAutoStop` goes to sleep
//!   after `--idle-stop-after` without a client: desired state `stopped`,
//!   containers stopped in reverse start order, the first
//!   `minimumNodesInPool` of each service kept created (warm), the others
//!   removed; volumes are always kept.
//! - A client on a sleeping deployment's endpoint is held while it wakes
//!   (desired `running` again, the normal start path in dependency order).

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tracing::{info_span, Instrument};

use super::{Controller, ControllerHooks, StepResult, Try};
use crate::deploy::{DesiredContainer, DesiredStack, Probe};
use crate::endpoints::{DeploymentNet, Power};
use crate::provision::Engine;
use crate::store::{DeploymentRecord, Desired, Status};

impl Controller {
    pub(super) async fn sync_endpoints(
        self: &Arc<Self>,
        id: &str,
        stack: &DesiredStack,
    ) -> StepResult<()> {
        let hooks = Arc::new(ControllerHooks(
            self.clone(),
            tokio::runtime::Handle::current(),
        ));
        self.endpoints
            .sync(id, &stack.endpoint_specs(), &self.store, hooks)
            .await
    }

    /// Forget a deleted deployment's in-memory state.
    pub(super) fn forget_runtime(&self, id: &str) {
        self.stacks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id);
        self.wake_started
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id);
        self.windows
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|(d, _), _| d != id);
        self.scale_started
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|(d, _), _| d != id);
        self.data_lost
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id);
    }

    /// A ready container takes connections from now on.
    pub(super) fn route(&self, id: &str, c: &DesiredContainer, host_port: Option<u16>) {
        let net = self.endpoints.net(id);
        let before = net.backend(&c.name);
        net.set_backend(&c.name, &c.resource, c.replica, host_port, true);
        if before.is_some_and(|b| b.routable && b.host_port == host_port) {
            return;
        }
        if c.ports.is_empty() {
            return;
        }
        self.hub
            .emit(id, "step", &format!("{} takes connections", c.name));
        let key = (id.to_owned(), c.resource.clone());
        let mut started = self.scale_started.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(super::ScaleUp {
            decided,
            over_since,
            target,
        }) = started.get(&key).copied()
        {
            if c.replica + 1 >= target {
                started.remove(&key);
                let since_over = over_since
                    .map(|t| {
                        format!(
                            ", {:.1} s after utilisation crossed the threshold",
                            t.elapsed().as_secs_f64()
                        )
                    })
                    .unwrap_or_default();
                self.hub.emit(
                    id,
                    "step",
                    &format!(
                        "autoscaling {}: replica {} takes connections {:.1} s after the decision{since_over}",
                        c.resource,
                        c.replica,
                        decided.elapsed().as_secs_f64()
                    ),
                );
            }
        }
    }

    /// Stop routing to `container` and wait (bounded) for its clients to end.
    pub(super) async fn drain(&self, id: &str, net: &DeploymentNet, container: &str) {
        let open = net.drain(container);
        if open == 0 {
            return;
        }
        let limit = self.settings.drain_timeout;
        self.hub.emit(
            id,
            "step",
            &format!(
                "draining {container}: no new connections; waiting up to {} s for {open} open connection(s)",
                limit.as_secs()
            ),
        );
        let deadline = Instant::now() + limit;
        while net.backend_active(container) > 0 {
            if Instant::now() >= deadline {
                self.hub.emit(
                    id,
                    "step",
                    &format!(
                        "draining {container}: {} connection(s) still open after {} s; closing them",
                        net.backend_active(container),
                        limit.as_secs()
                    ),
                );
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.hub.emit(id, "step", &format!("drained {container}"));
    }

    /// A replica takes reads only once it has applied everything its master
    /// had written when it started: MariaDB's `MASTER_GTID_WAIT` up to the
    /// master's `gtid_binlog_pos`; elsewhere `Seconds_Behind_Master = 0`.
    pub(super) async fn wait_caught_up(
        &self,
        id: &str,
        gen: u64,
        engine: &Engine,
        stack: &DesiredStack,
        c: &DesiredContainer,
        host: &str,
    ) -> StepResult<()> {
        if !matches!(c.probe, Probe::Mysql { .. }) {
            return Ok(());
        }
        let master_host = c
            .env
            .iter()
            .find(|(k, _)| k == "MYSQL_MASTER_HOST")
            .map(|(_, v)| v.as_str());
        let master = stack
            .containers
            .iter()
            .find(|m| master_host.is_some_and(|h| m.aliases.iter().any(|a| a == h)));
        let position = match master {
            Some(m) => self.gtid_position(engine, m, host).await.ok(),
            None => None,
        };
        let position = position.filter(|p| !p.is_empty());
        let limit = self.timeouts.replication;
        let position = &position;
        self.retry(
            id,
            gen,
            limit,
            Duration::from_millis(100),
            move || async move {
                let caught_up = async {
                    let mut conn = self.probe_conn(engine, c, host).await?;
                    let done = match position {
                        Some(pos) => {
                            let sql = format!(
                                "SELECT MASTER_GTID_WAIT('{}', 5) AS w",
                                pos.replace(['\'', '\\'], "")
                            );
                            let set = conn
                                .query_timeout(&sql, Duration::from_secs(8))
                                .await
                                .map_err(|e| e.to_string())?;
                            set.get(0, "w") == Some("0")
                        }
                        None => {
                            let h = crate::mysql::replication_status(&mut conn)
                                .await
                                .map_err(|e| e.to_string())?;
                            h.is_some_and(|h| h.healthy() && h.seconds_behind_master == Some(0))
                        }
                    };
                    conn.close().await;
                    Ok::<bool, String>(done)
                };
                match caught_up.await {
                    Ok(true) => Try::Done(()),
                    Ok(false) => Try::NotYet("still applying the master's changes".into()),
                    Err(e) => Try::NotYet(e),
                }
            },
        )
        .await
        .map_err(|e| {
            e.timed_out(|last| {
                format!(
                    "{} did not catch up with its master within {} s ({last})",
                    c.name,
                    limit.as_secs()
                )
            })
        })?;
        let what = match &position {
            Some(p) => format!("GTID {p}"),
            None => "Seconds_Behind_Master=0".into(),
        };
        self.hub.emit(
            id,
            "step",
            &format!("{} caught up with its master ({what})", c.name),
        );
        Ok(())
    }

    /// The master's binlog GTID position (MariaDB); empty when it has none.
    async fn gtid_position(
        &self,
        engine: &Engine,
        master: &DesiredContainer,
        host: &str,
    ) -> StepResult<String> {
        let mut conn = self.probe_conn(engine, master, host).await?;
        let set = conn
            .query_timeout(
                "SELECT @@GLOBAL.gtid_binlog_pos AS p",
                Duration::from_secs(3),
            )
            .await
            .map_err(|e| e.to_string());
        conn.close().await;
        Ok(set?.get(0, "p").unwrap_or("").to_owned())
    }

    /// Warm spares (`minimumNodesInPool` of an autoscaled service): each is
    /// created, started until ready, replicating and caught up (its data
    /// directory initialised), then stopped; a replica that became a spare
    /// (scale-down) is drained and stopped. A scale-up then only starts one.
    /// Failures are reported, not fatal: the replicas are already serving.
    pub(super) async fn keep_spares_warm(
        self: &Arc<Self>,
        id: &str,
        gen: u64,
        engine: &Engine,
        stack: &DesiredStack,
        observed: &crate::provision::Observed,
        net: &DeploymentNet,
    ) {
        let host = self.probe_host();
        for c in stack.spares() {
            if self.superseded(id, gen) {
                return;
            }
            // earlier phases of the reconcile leave spares alone, so the
            // observation taken at its start still holds
            let before = observed.containers.iter().find(|o| o.name == c.name);
            let stale = before.is_some_and(|o| o.config_hash != c.config_hash);
            let result: StepResult<()> = async {
                match (before, stale) {
                    (Some(o), false) if o.running() => {
                        // a replica that became a spare
                        self.drain(id, net, &c.name).await;
                        net.remove_backend(&c.name);
                        self.stop_spare(id, engine, &c.name, "kept warm for the next scale-up")
                            .await?;
                    }
                    (Some(_), false) => {}
                    _ => {
                        if stale {
                            engine
                                .remove_container(&c.name)
                                .await
                                .map_err(|e| format!("replacing {}: {e}", c.name))?;
                        }
                        for v in &c.volumes {
                            engine
                                .ensure_volume(id, c, &v.name)
                                .await
                                .map_err(|e| format!("creating a volume: {e}"))?;
                        }
                        engine
                            .create_container(stack, c, &Default::default())
                            .await
                            .map_err(|e| format!("creating {}: {e}", c.name))?;
                        self.wait_ready(id, gen, engine, c, &host).await?;
                        if matches!(c.probe, Probe::Mysql { replica: true, .. }) {
                            self.wait_replication(id, gen, engine, c, &host).await?;
                            self.wait_caught_up(id, gen, engine, stack, c, &host)
                                .await?;
                        }
                        self.stop_spare(
                            id,
                            engine,
                            &c.name,
                            "initialised, a warm spare (minimumNodesInPool)",
                        )
                        .await?;
                    }
                }
                Ok(())
            }
            .await;
            if let Err(e) = result {
                if !self.superseded(id, gen) {
                    self.hub.emit(
                        id,
                        "error",
                        &format!("keeping a warm spare failed (the replicas serve on): {e}"),
                    );
                }
            }
        }
    }

    async fn stop_spare(&self, id: &str, engine: &Engine, name: &str, why: &str) -> StepResult<()> {
        engine
            .stop(name, 30)
            .await
            .map_err(|e| format!("stopping {name}: {e}"))?;
        self.hub.emit(id, "step", &format!("{name} stopped: {why}"));
        Ok(())
    }

    /// Put a deployment to sleep (desired `stopped`): idempotent.
    pub(super) async fn sleep(
        self: &Arc<Self>,
        id: &str,
        rec: &DeploymentRecord,
        stack: &DesiredStack,
        engine: &Engine,
    ) -> StepResult<Option<Status>> {
        let store_err = |e: crate::store::StoreError| e.to_string();
        let net = self.endpoints.net(id);
        if net.power() != Power::Asleep {
            net.set_power(Power::Stopping);
        }
        net.unroute_all();
        let observed = engine
            .observe(id)
            .await
            .map_err(|e| format!("listing the deployment's objects: {e}"))?;
        let running = observed.containers.iter().filter(|o| o.running()).count();
        if running > 0 && rec.status != Status::Stopping {
            self.store
                .set_status(id, Status::Stopping, None)
                .map_err(store_err)?;
            self.hub.emit(id, "status", "stopping");
        }
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
                if o.running() {
                    engine
                        .stop(&o.name, 30)
                        .await
                        .map_err(|e| format!("stopping {}: {e}", o.name))?;
                }
                let planned = stack.containers.iter().find(|c| c.name == o.name);
                // the first `warm` of the service, and spares, stay created
                let keep = planned.is_some_and(|c| o.replica < warm || c.spare);
                if !keep {
                    // named volumes stay: the data survives the sleep
                    engine
                        .remove_container(&o.id)
                        .await
                        .map_err(|e| format!("removing {}: {e}", o.name))?;
                }
                Ok::<bool, String>(keep)
            });
            let results = futures_util::future::join_all(work).await;
            for (o, r) in mine.iter().zip(results) {
                let keep = r?;
                if o.running() {
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
                .map_err(|e| format!("removing {}: {e}", o.name))?;
            removed.push(o.name.clone());
        }
        net.set_power(Power::Asleep);
        if rec.status != Status::Stopped {
            self.store
                .set_status(id, Status::Stopped, None)
                .map_err(store_err)?;
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
            self.hub.emit(
                id,
                "step",
                &format!(
                    "asleep: {} container(s) stopped; kept warm (minimumNodesInPool): {}; removed, volumes kept: {}",
                    stopped.len(),
                    list(&kept),
                    list(&removed)
                ),
            );
            self.hub.emit(id, "status", "stopped");
        }
        Ok(Some(Status::Stopped))
    }

    /// Wake a sleeping deployment (a client is waiting on an endpoint).
    pub fn wake(self: &Arc<Self>, id: &str, reason: &str) {
        let Ok(Some(rec)) = self.store.get_deployment(id) else {
            return;
        };
        if rec.desired != Desired::Stopped {
            self.kick(id);
            return;
        }
        if self.store.set_desired(id, Desired::Running).is_err()
            || self.store.set_status(id, Status::Waking, None).is_err()
        {
            return;
        }
        let net = self.endpoints.net(id);
        net.wakes.fetch_add(1, Ordering::Relaxed);
        net.set_power(Power::Waking);
        self.wake_started
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id.to_owned(), Instant::now());
        self.hub.emit(id, "step", &format!("waking: {reason}"));
        self.hub.emit(id, "status", "waking");
        self.kick(id);
    }

    /// Put an idle deployment to sleep.
    pub fn stop_idle(self: &Arc<Self>, id: &str, idle: Duration) {
        let net = self.endpoints.net(id);
        if net.active.load(Ordering::Relaxed) > 0 {
            return;
        }
        // clients arriving from now on are held until it wakes again
        net.set_power(Power::Stopping);
        net.unroute_all();
        if self.store.set_desired(id, Desired::Stopped).is_err() {
            net.set_power(Power::Awake);
            return;
        }
        self.hub.emit(
            id,
            "step",
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
        {
            let mut r = self.rechecks.lock().unwrap_or_else(|e| e.into_inner());
            if !r.insert(container.to_owned()) {
                return;
            }
        }
        let this = self.clone();
        let id = id.to_owned();
        let container = container.to_owned();
        let span = info_span!(parent: None, "recheck", deployment = %id, container = %container);
        tokio::spawn(
            async move {
                this.recheck_inner(&id, &container).await;
                this.rechecks
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .remove(&container);
            }
            .instrument(span),
        );
    }

    async fn recheck_inner(self: &Arc<Self>, id: &str, container: &str) {
        let (Some(engine), Some(stack)) = (self.engine(), self.stack(id)) else {
            return;
        };
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
                Ok(Some((state, _))) if state == "exited" || state == "dead" => {
                    self.kick(id);
                    return;
                }
                _ => {}
            }
            let published = std::sync::atomic::AtomicU32::new(0);
            if self.probe_once(&engine, c, &host, &published).await.is_ok() {
                let port = u16::try_from(published.into_inner())
                    .ok()
                    .filter(|p| *p != 0);
                let replicating = !matches!(c.probe, Probe::Mysql { replica: true, .. })
                    || self
                        .replication_of(&engine, c, &host)
                        .await
                        .is_ok_and(|h| h.is_some_and(|h| h.healthy()));
                if replicating {
                    net.set_backend(container, &c.resource, c.replica, port, true);
                    if port != before {
                        self.hub.emit(
                            id,
                            "step",
                            &format!(
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

    /// Every second (faster for short idle periods): put deployments whose
    /// services all enable auto-stop to sleep after the idle period.
    pub fn spawn_idle_stopper(self: &Arc<Self>) {
        let this = self.clone();
        let idle = self.settings.idle_stop_after;
        let every = (idle / 4).clamp(Duration::from_millis(200), Duration::from_secs(1));
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                // in memory first; the store is read only for a candidate
                let idle_ones: Vec<String> = this
                    .endpoints
                    .all()
                    .into_iter()
                    .filter(|net| {
                        net.power() == Power::Awake
                            && net.idle_ms() >= idle.as_millis() as i64
                            && this.stack(&net.id).is_some_and(|s| s.auto_stop())
                            && !this.busy(&net.id)
                    })
                    .map(|net| net.id.clone())
                    .collect();
                for id in idle_ones {
                    if matches!(this.store.get_deployment(&id),
                        Ok(Some(rec)) if rec.desired == Desired::Running && rec.status == Status::Running)
                    {
                        this.stop_idle(&id, idle);
                    }
                }
            }
        });
    }
}
