//! Replication health of the replicas, kept in memory: the deployment view
//! (`GET /api/deployments/{id}`, polled by the page every 1.5 s) reads the
//! last sample instead of opening a MySQL connection to every replica per
//! request. While a deployment is being looked at, a background task samples
//! its replicas every [`SAMPLE_EVERY`]; a sample older than [`MAX_AGE`] is
//! not trusted and the reader probes once itself (the first view, or one
//! after a pause). Readiness checks and the lag metric record what they see
//! as well.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::Controller;
use crate::mysql::ReplicationHealth;
use crate::plan::{DesiredContainer, Probe};

/// How often a looked-at deployment's replicas are sampled.
pub(super) const SAMPLE_EVERY: Duration = Duration::from_secs(1);
/// A sample older than this is probed again by the reader.
pub(super) const MAX_AGE: Duration = Duration::from_secs(3);
/// Sampling stops this long after the last read.
const WATCHED_FOR: Duration = Duration::from_secs(30);
/// One probe's bound.
const PROBE_TIMEOUT: Duration = Duration::from_secs(4);

/// One probe's outcome (`Ok(None)`: replication is not configured).
pub(super) type ReplicationResult = Result<Option<ReplicationHealth>, String>;

/// The replicas' last samples, by container.
#[derive(Clone, Debug, Default)]
pub struct ReplicationSample {
    /// container → (when, outcome)
    pub replicas: BTreeMap<String, (Instant, ReplicationResult)>,
    /// When the deployment was last looked at.
    read_at: Option<Instant>,
    /// A sampling task runs.
    sampling: bool,
}

impl Controller {
    /// Remember `container`'s replication outcome.
    pub(super) fn record_replication(&self, id: &str, container: &str, r: ReplicationResult) {
        self.with_runtime(id, |rt| {
            rt.replication
                .get_or_insert_with(Default::default)
                .replicas
                .insert(container.to_owned(), (Instant::now(), r));
        });
    }

    /// The replication health of replica `c` of deployment `id`: the last
    /// sample when fresh, else one probe now (bounded). Keeps the
    /// deployment sampled in the background while it is being read.
    pub async fn replication_health(
        self: &Arc<Self>,
        id: &str,
        c: &DesiredContainer,
    ) -> ReplicationResult {
        let (cached, spawn) = self.with_runtime(id, |rt| {
            let s = rt.replication.get_or_insert_with(Default::default);
            s.read_at = Some(Instant::now());
            let spawn = !s.sampling;
            s.sampling = true;
            let cached = s
                .replicas
                .get(&c.name)
                .filter(|(at, _)| at.elapsed() < MAX_AGE)
                .map(|(_, r)| r.clone());
            (cached, spawn)
        });
        if spawn {
            self.spawn_replication_sampler(id);
        }
        match cached {
            Some(r) => r,
            None => self.sample_replica(id, c).await,
        }
    }

    async fn sample_replica(&self, id: &str, c: &DesiredContainer) -> ReplicationResult {
        let Some(engine) = self.engine() else {
            return Err("docker is not reachable from this server".into());
        };
        let host = self.probe_host();
        let r = tokio::time::timeout(PROBE_TIMEOUT, self.replication_of(&*engine, c, &host))
            .await
            .unwrap_or_else(|_| Err("timed out".into()));
        self.record_replication(id, &c.name, r.clone());
        r
    }

    /// Sample `id`'s running replicas every [`SAMPLE_EVERY`] until nobody
    /// read them for [`WATCHED_FOR`].
    fn spawn_replication_sampler(self: &Arc<Self>, id: &str) {
        let this = self.clone();
        let id = id.to_owned();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(SAMPLE_EVERY).await;
                let watched = this.with_runtime(&id, |rt| {
                    let s = rt.replication.get_or_insert_with(Default::default);
                    let watched = s.read_at.is_some_and(|t| t.elapsed() < WATCHED_FOR);
                    if !watched {
                        s.sampling = false;
                    }
                    watched
                });
                if !watched {
                    return;
                }
                let Some(stack) = this.stack(&id) else {
                    continue;
                };
                let Some(observed) = this.observe(&id).await else {
                    continue;
                };
                let replicas = stack.active().filter(|c| {
                    matches!(c.probe, Probe::Mysql { replica: true, .. })
                        && observed.container(&c.name).is_some_and(|o| o.running())
                });
                futures_util::future::join_all(replicas.map(|c| this.sample_replica(&id, c))).await;
            }
        });
    }
}
