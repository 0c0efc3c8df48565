//! The reconcile queue: [`Controller::kick`] asks for a reconcile of one
//! deployment; runs are serialized per deployment and coalesced (a request
//! during a run makes one more run), and every request bumps the
//! deployment's generation so the running step's waits end early
//! ([`Controller::superseded`]).

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use tracing::{info_span, Instrument};

use super::{Controller, ReconcileError};
use crate::store::Status;

impl Controller {
    pub(super) fn generation(&self, id: &str) -> u64 {
        self.with_runtime(id, |rt| rt.generation)
    }

    /// Whether a newer request came in since `gen`.
    pub(super) fn superseded(&self, id: &str, gen: u64) -> bool {
        self.generation(id) != gen
    }

    /// `Err(Superseded)` when a newer request came in since `gen`.
    pub(super) fn check_current(&self, id: &str, gen: u64) -> Result<(), ReconcileError> {
        if self.superseded(id, gen) {
            return Err(ReconcileError::Superseded);
        }
        Ok(())
    }

    /// Ask for a reconcile of `id`; runs are serialized per deployment and
    /// coalesced. A running reconcile's waits are cut short.
    pub fn kick(self: &Arc<Self>, id: &str) {
        let start = self.with_runtime(id, |rt| {
            rt.generation += 1;
            if rt.running {
                rt.again = true;
                return false;
            }
            rt.running = true;
            true
        });
        if !start {
            return;
        }
        let this = self.clone();
        let id = id.to_owned();
        let span = info_span!(parent: None, "reconcile", deployment = %id);
        tokio::spawn(
            async move {
                loop {
                    this.reconcile(&id).await;
                    let again = this.with_runtime(&id, |rt| {
                        let again = rt.again;
                        rt.again = false;
                        rt.running = again;
                        again
                    });
                    if !again {
                        break;
                    }
                }
            }
            .instrument(span),
        );
    }

    /// Whether a reconcile is queued or running for `id`.
    pub fn busy(&self, id: &str) -> bool {
        self.with_runtime(id, |rt| rt.running)
    }

    /// One reconcile step, with its outcome recorded.
    pub async fn reconcile(self: &Arc<Self>, id: &str) {
        self.counters.reconciles.fetch_add(1, Ordering::Relaxed);
        let started = Instant::now();
        let gen = self.generation(id);
        match self.reconcile_step(id, gen).await {
            Ok(Some(Status::Running)) => {
                self.counters
                    .ready_ms_sum
                    .fetch_add(started.elapsed().as_millis() as u64, Ordering::Relaxed);
                self.counters.ready_count.fetch_add(1, Ordering::Relaxed);
            }
            Ok(_) => {}
            Err(e) => {
                if self.superseded(id, gen) {
                    // superseded by a newer request; the next run decides
                    return;
                }
                self.counters
                    .reconcile_failures
                    .fetch_add(1, Ordering::Relaxed);
                let message = self.hub.redact(id, &e.to_string());
                if let Ok(Some(rec)) = self.store.get_deployment(id) {
                    let _ = self.lifecycle(id).failed(rec.desired, &message);
                }
            }
        }
    }
}
