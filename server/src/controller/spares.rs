//! Warm spares (`minimumNodesInPool` of an autoscaled service): each is
//! created, started until ready, replicating and caught up (its data
//! directory initialised), then stopped; a replica that became a spare
//! (scale-down) is drained and stopped. A scale-up then only starts one.
//! Failures are reported, not fatal: the replicas are already serving.

use std::sync::Arc;

use super::diff::{action_for, Action};
use super::{Controller, ReconcileError};
use crate::docker::{Engine, Observed};
use crate::plan::{DesiredContainer, DesiredStack, Probe};
use crate::proxy::DeploymentNet;

impl Controller {
    pub(super) async fn keep_spares_warm(
        self: &Arc<Self>,
        id: &str,
        gen: u64,
        engine: &dyn Engine,
        stack: &DesiredStack,
        observed: &Observed,
        net: &DeploymentNet,
    ) {
        let host = self.probe_host();
        for c in stack.spares() {
            if self.superseded(id, gen) {
                return;
            }
            // earlier phases of the reconcile leave spares alone, so the
            // observation taken at its start still holds
            let before = observed.container(&c.name);
            let result = match action_for(c, before) {
                // running as planned: a replica that became a spare
                None => {
                    self.drain(id, net, &c.name).await;
                    net.remove_backend(&c.name);
                    self.stop_spare(id, engine, &c.name, "kept warm for the next scale-up")
                        .await
                }
                // created and stopped: warm already
                Some(Action::Start) => Ok(()),
                // frozen by the paused tier: thawed, then stopped
                Some(Action::Unpause) => {
                    let thawed = engine
                        .unpause(&c.name)
                        .await
                        .map_err(ReconcileError::engine(format!("unpausing {}", c.name)));
                    match thawed {
                        Ok(()) => {
                            self.stop_spare(id, engine, &c.name, "kept warm for the next scale-up")
                                .await
                        }
                        Err(e) => Err(e),
                    }
                }
                Some(action) => {
                    self.warm_up(id, gen, engine, stack, c, &host, &action)
                        .await
                }
            };
            if let Err(e) = result {
                if !self.superseded(id, gen) {
                    self.hub.error(
                        id,
                        &format!("keeping a warm spare failed (the replicas serve on): {e}"),
                    );
                }
            }
        }
    }

    /// Create (or replace) a spare, wait until it is initialised, stop it.
    #[allow(clippy::too_many_arguments)]
    async fn warm_up(
        &self,
        id: &str,
        gen: u64,
        engine: &dyn Engine,
        stack: &DesiredStack,
        c: &DesiredContainer,
        host: &str,
        action: &Action,
    ) -> Result<(), ReconcileError> {
        if matches!(action, Action::Recreate(_)) {
            engine
                .remove_container(&c.name)
                .await
                .map_err(ReconcileError::engine(format!("replacing {}", c.name)))?;
        }
        self.ensure_volumes(id, engine, c, false).await?;
        engine
            .create_container(stack, c, &Default::default())
            .await
            .map_err(ReconcileError::engine(format!("creating {}", c.name)))?;
        self.wait_ready(id, gen, engine, c, host).await?;
        if matches!(c.probe, Probe::Mysql { replica: true, .. }) {
            self.wait_replication(id, gen, engine, c, host).await?;
            self.wait_caught_up(id, gen, engine, stack, c, host).await?;
        }
        self.stop_spare(
            id,
            engine,
            &c.name,
            "initialised, a warm spare (minimumNodesInPool)",
        )
        .await
    }

    async fn stop_spare(
        &self,
        id: &str,
        engine: &dyn Engine,
        name: &str,
        why: &str,
    ) -> Result<(), ReconcileError> {
        engine
            .stop(name, 30)
            .await
            .map_err(ReconcileError::engine(format!("stopping {name}")))?;
        self.hub.step(id, &format!("{name} stopped: {why}"));
        Ok(())
    }
}
