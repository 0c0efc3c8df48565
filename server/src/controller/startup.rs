//! Start-up and repair: reach the engine (now or later), keep orphans, then
//! reconcile every record; every few seconds, reconcile the running
//! deployments whose containers vanished or stopped.

use std::sync::Arc;
use std::time::Duration;

use tracing::{info, warn};

use super::diff::diff;
use super::Controller;
use crate::docker::{DockerEngine, Observed};
use crate::plan::DesiredContainer;
use crate::store::{Desired, Status};

impl Controller {
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
                if let Ok(engine) =
                    DockerEngine::connect(host.as_deref(), &bind_address, &instance).await
                {
                    info!("docker is reachable now");
                    this.set_engine(Arc::new(engine));
                    this.startup().await;
                    return;
                }
            }
        });
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
            self.adopt_orphans(&**engine).await;
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
                    if rec.desired != Desired::Running || this.has_lost_data(&rec.id) {
                        continue;
                    }
                    let watched = matches!(rec.status, Status::Running | Status::Degraded);
                    // a node lost under a step (its waits would never end)
                    // or after one failed on it: repaired as when running
                    let node_lost = !watched
                        && matches!(rec.status, Status::Provisioning | Status::Failed)
                        && this.node_lost_now(&rec.id).await;
                    if !watched && !node_lost {
                        continue;
                    }
                    let Ok(stack) = this.plan_record(&rec) else {
                        continue;
                    };
                    let Some(observed) = this.observe(&rec.id).await else {
                        continue;
                    };
                    let broken: Vec<&DesiredContainer> = diff(&stack, &observed).broken;
                    // a running step is left alone, unless data vanished
                    // under it (its waits would never end)
                    if this.busy(&rec.id)
                        && !node_lost
                        && !this.volume_vanished(&rec.id, &broken, &observed)
                    {
                        continue;
                    }
                    let broken: Vec<&str> = broken.iter().map(|c| c.name.as_str()).collect();
                    // a container on a down node: re-checked quietly
                    // (the degraded event named the node once)
                    if !broken.is_empty() && this.nodes_lost(&rec.id) {
                        this.kick(&rec.id);
                    } else if !broken.is_empty() {
                        this.hub.step(
                            &rec.id,
                            &format!("repairing: {} not running", broken.join(", ")),
                        );
                        this.kick(&rec.id);
                    }
                }
            }
        });
    }

    /// Whether the engine reports a container of the deployment on a down
    /// node now (bounded: a manager that does not answer says no).
    async fn node_lost_now(&self, id: &str) -> bool {
        let Some(engine) = self.engine() else {
            return false;
        };
        tokio::time::timeout(Duration::from_secs(5), engine.lost_containers(id))
            .await
            .is_ok_and(|r| r.is_ok_and(|l| !l.is_empty()))
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
