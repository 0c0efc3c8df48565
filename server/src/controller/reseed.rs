//! A data volume that vanished is lost data, not a volume still to create.
//! A MySQL replica may be re-created empty (it re-reads its master's complete
//! binlog); any other container — the master above all — is not: the
//! deployment goes `degraded`, its endpoint holds clients (no writes land on
//! an empty master), the replicas keep serving reads, and recovery is the
//! explicit `POST /api/deployments/{id}/reseed`: the master's volume is
//! re-made as a copy of the most advanced replica's (replicas log what they
//! apply, `--log-slave-updates`, so the copy's binlog is the whole history
//! and the other replicas resume from their GTID positions).

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use super::{Action, Controller, ReconcileError};
use crate::docker::Observed;
use crate::plan::{DesiredContainer, Probe};
use crate::store::Status;

/// Files of the replica's data dir that must not follow it into the master's
/// (its replication settings and relay logs).
const REPLICA_ONLY_FILES: &[&str] = &[
    "master.info",
    "relay-log.info",
    "multi-master.info",
    "relay-bin.*",
    ".specstudio-replication.sha256",
];

/// Why a re-seed cannot run.
#[derive(Debug, thiserror::Error)]
pub enum ReseedError {
    #[error("deployment `{0}`")]
    NotFound(String),
    #[error("no data volume of deployment `{0}` is lost: there is nothing to re-seed")]
    NothingLost(String),
    #[error("{0}")]
    Impossible(String),
    #[error("docker is not reachable from this server")]
    NoDocker,
    #[error("{0}")]
    Failed(String),
}

pub(super) fn mysql_replica(c: &DesiredContainer) -> bool {
    matches!(c.probe, Probe::Mysql { replica: true, .. })
}

/// A GTID position (`0-1-57,1-2-3`) ranked by its total sequence numbers.
fn gtid_rank(pos: &str) -> u64 {
    pos.split(',')
        .filter_map(|g| g.trim().rsplit('-').next()?.parse::<u64>().ok())
        .sum()
}

impl Controller {
    /// Whether a deployment waits for a re-seed (the watch leaves it alone).
    pub fn has_lost_data(&self, id: &str) -> bool {
        self.with_runtime(id, |rt| rt.data_lost.is_some())
    }

    /// Whether one of `containers` lost a data volume it had (known in the
    /// store, absent from Docker).
    pub(super) fn volume_vanished(
        &self,
        id: &str,
        containers: &[&DesiredContainer],
        observed: &Observed,
    ) -> bool {
        let Ok(known) = self.store.data_volumes(id) else {
            return false;
        };
        containers
            .iter()
            .flat_map(|c| &c.volumes)
            .any(|v| known.contains(&v.name) && !observed.volumes.contains(&v.name))
    }

    /// In a reconcile step: containers to (re-)create whose known data
    /// volume vanished. `Some(Degraded)` ends the step.
    pub(super) fn hold_lost_data(
        &self,
        id: &str,
        todo: &[(&DesiredContainer, Action)],
        observed: &Observed,
    ) -> Result<Option<Status>, ReconcileError> {
        let known = self.store.data_volumes(id)?;
        let present: BTreeSet<&str> = observed.volumes.iter().map(String::as_str).collect();
        let mut lost = Vec::new();
        for (c, action) in todo {
            if matches!(action, Action::Start | Action::Unpause) {
                continue;
            }
            for v in &c.volumes {
                if !known.contains(&v.name) || present.contains(v.name.as_str()) {
                    continue;
                }
                if mysql_replica(c) {
                    self.store.forget_data_volume(id, &v.name)?;
                    self.hub.step(id, &format!(
                            "volume {} of replica {} vanished: re-created empty, the replica re-reads its master's binlog",
                            v.name, c.name
                        ),
                    );
                } else {
                    lost.push((c.name.clone(), v.name.clone()));
                }
            }
        }
        if lost.is_empty() {
            self.with_runtime(id, |rt| rt.data_lost = None);
            return Ok(None);
        }
        let fresh =
            self.with_runtime(id, |rt| rt.data_lost.replace(lost.clone())) != Some(lost.clone());
        let net = self.endpoints.net(id);
        for (c, _) in &lost {
            net.set_routable(c, false);
        }
        let message = format!(
            "data volume(s) vanished: {}; not re-creating them empty (its endpoint holds clients, replicas keep serving reads). \
             Re-seed from the most advanced replica: POST /api/deployments/{id}/reseed",
            lost.iter()
                .map(|(c, v)| format!("{v} of {c}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        self.lifecycle(id).degraded(&message, fresh)?;
        Ok(Some(Status::Degraded))
    }

    /// Re-make every lost volume as a copy of the most advanced running
    /// replica's, then reconcile (which re-creates the container on it).
    pub async fn reseed(self: &Arc<Self>, id: &str) -> Result<String, ReseedError> {
        let rec = self
            .store
            .get_deployment(id)
            .map_err(|e| ReseedError::Failed(e.to_string()))?
            .ok_or_else(|| ReseedError::NotFound(id.to_owned()))?;
        let lost = self
            .with_runtime(id, |rt| rt.data_lost.clone())
            .ok_or_else(|| ReseedError::NothingLost(id.to_owned()))?;
        let engine = self.engine().ok_or(ReseedError::NoDocker)?;
        let stack = self
            .plan_record(&rec)
            .map_err(|e| ReseedError::Failed(e.to_string()))?;
        let host = self.probe_host();
        // the most advanced running replica
        let mut best: Option<(u64, String, &DesiredContainer)> = None;
        for c in stack.containers.iter().filter(|c| mysql_replica(c)) {
            let Ok(mut conn) = self.probe_conn(&*engine, c, &host).await else {
                continue;
            };
            let pos = conn
                .query_timeout("SELECT @@gtid_current_pos AS p", Duration::from_secs(3))
                .await
                .ok()
                .and_then(|r| r.get(0, "p").map(str::to_owned));
            conn.close().await;
            if let Some(pos) = pos {
                let rank = gtid_rank(&pos);
                if best.as_ref().is_none_or(|(r, _, _)| rank > *r) {
                    best = Some((rank, pos, c));
                }
            }
        }
        let Some((_, pos, source)) = best else {
            return Err(ReseedError::Impossible(
                "no running MySQL replica answers: there is nothing to re-seed from".into(),
            ));
        };
        let mut plan = Vec::new();
        for (name, volume) in &lost {
            let c = stack
                .containers
                .iter()
                .find(|c| &c.name == name)
                .ok_or_else(|| ReseedError::Impossible(format!("{name} is no longer planned")))?;
            let target = &c
                .volumes
                .iter()
                .find(|v| &v.name == volume)
                .ok_or_else(|| ReseedError::Impossible(format!("{volume} is no longer planned")))?
                .target;
            let from = source
                .volumes
                .iter()
                .find(|v| &v.target == target)
                .ok_or_else(|| {
                    ReseedError::Impossible(format!(
                        "replica {} has no volume mounted at {target} to copy from",
                        source.name
                    ))
                })?;
            plan.push((c, volume.clone(), from.name.clone()));
        }
        self.hub.step(
            id,
            &format!(
                "re-seeding {} from {} (GTID position {pos}): stopping it for a consistent copy",
                lost.iter()
                    .map(|(c, _)| c.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                source.name
            ),
        );
        let net = self.endpoints.net(id);
        net.set_routable(&source.name, false);
        let failed = |e: crate::docker::EngineError| ReseedError::Failed(e.to_string());
        engine.stop(&source.name, 30).await.map_err(failed)?;
        let mut copy = Ok(());
        for (c, to, from) in &plan {
            copy = async {
                engine.ensure_volume(id, c, to).await?;
                engine
                    .copy_volume(
                        id,
                        &source.image,
                        from,
                        to,
                        REPLICA_ONLY_FILES,
                        Duration::from_secs(600),
                    )
                    .await
            }
            .await;
            if copy.is_err() {
                break;
            }
            self.hub
                .step(id, &format!("volume {to} re-seeded from {from}"));
        }
        // the source goes back to serving whatever happened
        let restarted = engine.start(&source.name).await;
        copy.map_err(failed)?;
        restarted.map_err(failed)?;
        self.with_runtime(id, |rt| rt.data_lost = None);
        self.kick(id);
        Ok(source.name.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::gtid_rank;

    #[test]
    fn gtid_positions_rank_by_sequence() {
        assert_eq!(gtid_rank(""), 0);
        assert_eq!(gtid_rank("0-1-57"), 57);
        assert_eq!(gtid_rank("0-1-57,1-2-3"), 60);
        assert!(gtid_rank("0-1-58") > gtid_rank("0-1-57"));
    }
}
