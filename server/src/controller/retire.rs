//! Volumes a scale-down drops. The diff lists the volumes of replicas past
//! the plan ([`Diff::retired_volumes`](super::Diff)); before any container
//! goes they are marked in the store, so the intent outlives a crash
//! between a replica's container and its volume. The next step removes
//! what is left; a replica scaled back up before that finds its old volume
//! marked and gets a fresh one ([`stale_volumes`]): it starts from an empty
//! data dir and catches up from its master, never on rows the user asked
//! to drop.

use super::diff::stale_volumes;
use super::{Controller, ReconcileError};
use crate::docker::{Engine, Observed};
use crate::plan::DesiredStack;

impl Controller {
    /// Mark `retired` (this step's) and return the marked volumes a
    /// re-created replica would mount again (to remove before it starts).
    pub(super) fn retire_volumes<'a>(
        &self,
        id: &str,
        stack: &'a DesiredStack,
        observed: &Observed,
        retired: &[&str],
    ) -> Result<Vec<&'a str>, ReconcileError> {
        self.store.retire_volumes(id, retired)?;
        let marked = self.store.retired_volumes(id)?;
        Ok(stale_volumes(stack, observed, &marked))
    }

    /// Remove the retired and stale volumes (their containers are gone),
    /// then drop every mark: what is left marked was kept (its container
    /// never went) or is gone already.
    pub(super) async fn remove_retired_volumes(
        &self,
        id: &str,
        engine: &dyn Engine,
        retired: &[&str],
        stale: &[&str],
    ) -> Result<(), ReconcileError> {
        for v in retired.iter().chain(stale) {
            // forgotten first: a crash after the removal must not make a
            // re-created replica's missing volume look like lost data
            self.store.forget_data_volume(id, v)?;
            engine
                .remove_volume(v)
                .await
                .map_err(ReconcileError::engine("removing a volume"))?;
            if stale.contains(v) {
                self.hub.step(
                    id,
                    &format!(
                        "volume {v} removed: a scale-down left it behind; the replica scaled back up starts empty and catches up from its master"
                    ),
                );
            } else {
                self.hub.step(id, &format!("volume {v} removed"));
            }
        }
        for v in self.store.retired_volumes(id)? {
            self.store.unretire_volume(id, &v)?;
        }
        Ok(())
    }
}
