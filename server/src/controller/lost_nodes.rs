//! A node of a multi-node engine went down ([`Engine::lost_containers`]; one
//! Docker host never reports any): the deployment turns `degraded` with the
//! node named, from this one place.
//!
//! - A lost MySQL **replica** is re-created on a surviving node from an
//!   empty data directory: its service is removed here, and the same
//!   reconcile step creates it again (the engine picks the zone: the lost
//!   one if a node of it is left, else another), waits until it has caught
//!   up with its master and only then routes reads to it (`bring_up`). The
//!   status stays `degraded` until that step ends `running`.
//! - A lost **master** (or any other container) is neither re-created (an
//!   empty master would lose every acknowledged row) nor replaced (no
//!   automatic promotion): its endpoint holds clients, writes are
//!   unavailable until its node is back, the replicas keep serving reads.

use super::reseed::mysql_replica;
use super::{Controller, ReconcileError};
use crate::docker::{Engine, LostContainer};
use crate::plan::DesiredStack;
use crate::store::Status;

type Result<T> = std::result::Result<T, ReconcileError>;

/// `Replica-1 on node swarm-node3 (zone-c)`, comma-separated.
fn describe(lost: &[&LostContainer]) -> String {
    lost.iter()
        .map(|l| {
            let zone = l
                .zone
                .as_deref()
                .map(|z| format!(" ({z})"))
                .unwrap_or_default();
            format!("{} on node {}{zone}", l.name, l.node)
        })
        .collect::<Vec<_>>()
        .join(", ")
}

impl Controller {
    /// Whether the last reconcile step found containers on a down node.
    pub(super) fn nodes_lost(&self, id: &str) -> bool {
        self.with_runtime(id, |rt| rt.nodes_lost.is_some())
    }

    /// At the start of a running step: handle containers whose node is
    /// down. `Some(Degraded)` ends the step (a lost master); `None` lets it
    /// go on (nothing lost, or lost replicas removed to be re-created).
    pub(super) async fn handle_lost_nodes(
        &self,
        id: &str,
        stack: &DesiredStack,
        engine: &dyn Engine,
    ) -> Result<Option<Status>> {
        let lost = engine
            .lost_containers(id)
            .await
            .map_err(ReconcileError::engine("asking which nodes are down"))?;
        if lost.is_empty() {
            self.with_runtime(id, |rt| rt.nodes_lost = None);
            return Ok(None);
        }
        let fresh = self
            .with_runtime(id, |rt| rt.nodes_lost.replace(lost.clone()))
            .as_ref()
            != Some(&lost);
        let net = self.endpoints.net(id);
        for l in &lost {
            net.set_routable(&l.name, false);
        }
        let planned = |name: &str| stack.containers.iter().find(|c| c.name == name);
        let (replicas, others): (Vec<&LostContainer>, Vec<&LostContainer>) = lost
            .iter()
            .partition(|l| planned(&l.name).is_some_and(mysql_replica));
        if !others.is_empty() {
            let all: Vec<&LostContainer> = lost.iter().collect();
            let message = format!(
                "node down: {}. Writes are unavailable until the node is back: the master's data \
                 is on it and there is no automatic promotion; the replicas keep serving reads",
                describe(&all)
            );
            self.lifecycle(id).degraded(&message, fresh)?;
            return Ok(Some(Status::Degraded));
        }
        let message = format!(
            "node down: {}. Re-creating on a surviving node from an empty data directory; \
             reads go to it once it has caught up with the master",
            describe(&replicas)
        );
        self.lifecycle(id).degraded(&message, fresh)?;
        for l in replicas {
            engine
                .remove_container(&l.name)
                .await
                .map_err(ReconcileError::engine("removing a replica of a down node"))?;
            net.remove_backend(&l.name);
            for v in planned(&l.name).into_iter().flat_map(|c| &c.volumes) {
                self.store.forget_data_volume(id, &v.name)?;
            }
            self.hub.step(
                id,
                &format!(
                    "replica {} removed from down node {} (its old data stays on that node)",
                    l.name, l.node
                ),
            );
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lost_containers_are_described_with_node_and_zone() {
        let a = LostContainer {
            name: "Replica-1".into(),
            node: "swarm-node3".into(),
            zone: Some("zone-c".into()),
        };
        let b = LostContainer {
            name: "Master-0".into(),
            node: "n9".into(),
            zone: None,
        };
        assert_eq!(
            describe(&[&a, &b]),
            "Replica-1 on node swarm-node3 (zone-c), Master-0 on node n9"
        );
    }
}
