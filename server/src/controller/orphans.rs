//! Labelled Docker objects of this server instance that no deployment record
//! owns ("orphans": e.g. after the database file was lost). They are never
//! removed on the server's own initiative: at start-up their containers are
//! stopped and everything is kept, listed by `GET /api/orphans`, and removed
//! only by `DELETE /api/orphans/{id}` or the `--prune-orphans` flag.

use std::collections::BTreeSet;
use std::sync::Arc;

use serde::Serialize;
use tracing::{info, warn};

use super::Controller;
use crate::docker::{Engine, EngineError, Observed};

/// One orphaned deployment's objects.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Orphan {
    /// The `org.specstudio.deployment` label.
    pub deployment: String,
    /// Container ids.
    pub containers: Vec<String>,
    /// Volume names (the data).
    pub volumes: Vec<String>,
    pub networks: Vec<String>,
}

impl Orphan {
    fn new(deployment: String, o: Observed) -> Orphan {
        Orphan {
            deployment,
            containers: o.containers.into_iter().map(|c| c.id).collect(),
            volumes: o.volumes,
            networks: o.networks,
        }
    }
}

/// Why an orphan could not be removed.
#[derive(Debug, thiserror::Error)]
pub enum OrphanError {
    #[error("docker is not reachable from this server")]
    NoDocker,
    #[error("{0}")]
    Store(#[from] crate::store::StoreError),
    #[error("{0}")]
    Engine(#[from] EngineError),
    #[error("`{0}` is a deployment with a record: delete it with DELETE /api/deployments/{0}")]
    HasRecord(String),
    #[error("no orphaned objects are labelled with deployment `{0}`")]
    Unknown(String),
}

impl Controller {
    /// This instance's labelled objects that no record owns, by deployment.
    pub async fn orphans(&self) -> Result<Vec<Orphan>, OrphanError> {
        let engine = self.engine().ok_or(OrphanError::NoDocker)?;
        self.orphans_with(&*engine).await
    }

    async fn orphans_with(&self, engine: &dyn Engine) -> Result<Vec<Orphan>, OrphanError> {
        // objects first, records second: a deployment created in between has
        // its record before any object, so it is never listed
        let all = engine.observe_all().await?;
        let known: BTreeSet<String> = self
            .store
            .list_deployments()?
            .into_iter()
            .map(|r| r.id)
            .collect();
        Ok(all
            .into_iter()
            .filter(|(dep, _)| !known.contains(dep))
            .map(|(dep, o)| Orphan::new(dep, o))
            .collect())
    }

    /// Remove one orphan's containers, volumes and network (an explicit
    /// request: its data is gone afterwards).
    pub async fn remove_orphan(&self, deployment: &str) -> Result<Orphan, OrphanError> {
        let engine = self.engine().ok_or(OrphanError::NoDocker)?;
        self.store.check_file()?;
        if self.store.get_deployment(deployment)?.is_some() {
            return Err(OrphanError::HasRecord(deployment.to_owned()));
        }
        let orphan = self
            .orphans_with(&*engine)
            .await?
            .into_iter()
            .find(|o| o.deployment == deployment)
            .ok_or_else(|| OrphanError::Unknown(deployment.to_owned()))?;
        engine.teardown(deployment).await?;
        warn!(
            deployment,
            containers = orphan.containers.len(),
            volumes = orphan.volumes.len(),
            "orphaned objects removed on request"
        );
        Ok(orphan)
    }

    /// At start-up: keep orphans (stop their containers) unless the operator
    /// asked to prune them.
    pub(super) async fn adopt_orphans(self: &Arc<Self>, engine: &dyn Engine) {
        let orphans = match self.orphans_with(engine).await {
            Ok(o) => o,
            Err(e) => {
                warn!("listing labelled objects failed: {e}");
                return;
            }
        };
        for o in orphans {
            if self.settings.prune_orphans {
                info!(
                    deployment = %o.deployment,
                    containers = o.containers.len(),
                    volumes = o.volumes.len(),
                    "--prune-orphans: removing labelled objects that no deployment record owns"
                );
                if let Err(e) = engine.teardown(&o.deployment).await {
                    warn!(deployment = %o.deployment, "removing orphans failed: {e}");
                }
                continue;
            }
            warn!(
                deployment = %o.deployment,
                containers = o.containers.len(),
                volumes = ?o.volumes,
                "labelled objects that no deployment record owns are kept (data volumes untouched, \
                 containers stopped); see GET /api/orphans, remove with DELETE /api/orphans/{} \
                 or start with --prune-orphans",
                o.deployment
            );
            for c in &o.containers {
                if let Err(e) = engine.stop(c, 10).await {
                    warn!(deployment = %o.deployment, "stopping an orphaned container failed: {e}");
                }
            }
        }
    }
}
