//! The deployment lifecycle: one state machine over the stored desired state
//! ([`Desired`]), the status reached by reconciliation ([`Status`]) and the
//! endpoints' power ([`Power`]). Every transition is a method of
//! [`Lifecycle`] that writes the store, sets the power and emits the matching
//! typed [`LifecycleEvent`] together, so the three never disagree and no
//! status event is written by hand.
//!
//! ```text
//!            create/patch               ready
//!   (new) ──────────────► provisioning ───────► running ◄──┐
//!                             │  ▲                │  │      │ ready
//!               failure       ▼  │ repair   idle  │  │ lost ▼
//!                           failed       stopping◄┘  └──► degraded
//!                                           │  ▲
//!                                    asleep ▼  │ client
//!                                       stopped ──► waking ─► running
//!   any ── delete ──► deleting ──► (deleted: the record is gone)
//! ```
//!
//! `deleted` is not a [`Status`] (no record keeps it): it is the last
//! [`LifecycleEvent`] of a deployment.
//!
//! The paused tier (`--idle-pause-after`, shorter than `--idle-stop-after`):
//! `running ──idle──► paused` (desired `paused`, containers frozen, power
//! `Paused`); a client thaws it (`waking ─► running`); still idle at the
//! stop limit, it goes to `stopping ─► stopped` as a running one does.

use crate::proxy::{Endpoints, Power};
use crate::store::{Desired, Status, Store, StoreError};

use super::EventHub;

/// What a lifecycle transition announces on the `status` event stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LifecycleEvent {
    /// The deployment reached this status.
    Status(Status),
    /// The deployment and its record are gone.
    Deleted,
}

impl LifecycleEvent {
    /// The event's kind on the wire.
    pub const KIND: &'static str = "status";

    /// The event's message on the wire (the status word, or `deleted`).
    pub fn as_str(self) -> &'static str {
        match self {
            LifecycleEvent::Status(s) => s.as_str(),
            LifecycleEvent::Deleted => "deleted",
        }
    }
}

/// The transitions of one deployment.
pub struct Lifecycle<'a> {
    store: &'a Store,
    hub: &'a EventHub,
    endpoints: &'a Endpoints,
    id: &'a str,
}

type Result<T> = std::result::Result<T, StoreError>;

impl<'a> Lifecycle<'a> {
    pub fn new(
        store: &'a Store,
        hub: &'a EventHub,
        endpoints: &'a Endpoints,
        id: &'a str,
    ) -> Lifecycle<'a> {
        Lifecycle {
            store,
            hub,
            endpoints,
            id,
        }
    }

    fn announce(&self, event: LifecycleEvent) {
        self.hub.emit(self.id, LifecycleEvent::KIND, event.as_str());
    }

    /// Store `status` (with its message) and announce it.
    fn set(&self, status: Status, message: Option<&str>) -> Result<()> {
        self.store.set_status(self.id, status, message)?;
        self.announce(LifecycleEvent::Status(status));
        Ok(())
    }

    /// Containers are being created or changed (a request, a repair).
    pub fn provisioning(&self) -> Result<()> {
        self.set(Status::Provisioning, None)
    }

    /// Everything is ready: clients are routed. `woke_after`: how long a
    /// wake took (announced as a step).
    pub fn running(&self, woke_after: Option<std::time::Duration>) -> Result<()> {
        self.store.set_status(self.id, Status::Running, None)?;
        let net = self.endpoints.net(self.id);
        net.set_power(Power::Awake);
        net.touch();
        if let Some(took) = woke_after {
            self.hub
                .step(self.id, &format!("woke in {} ms", took.as_millis()));
        }
        self.announce(LifecycleEvent::Status(Status::Running));
        Ok(())
    }

    /// A reconcile step failed: `failed`, or `deleting` again when the
    /// deployment is being deleted (the next step retries). The message is
    /// announced as an `error` event first.
    pub fn failed(&self, desired: Desired, message: &str) -> Result<Status> {
        let status = if desired == Desired::Deleted {
            Status::Deleting
        } else {
            Status::Failed
        };
        self.store.set_status(self.id, status, Some(message))?;
        self.hub.error(self.id, message);
        self.announce(LifecycleEvent::Status(status));
        Ok(status)
    }

    /// Data was lost: `degraded` with the reason; announced only when the
    /// reason is new (`fresh`), so a repeated check does not repeat it.
    pub fn degraded(&self, message: &str, fresh: bool) -> Result<()> {
        self.store
            .set_status(self.id, Status::Degraded, Some(message))?;
        if fresh {
            self.hub.error(self.id, message);
            self.announce(LifecycleEvent::Status(Status::Degraded));
        }
        Ok(())
    }

    /// Deletion was asked for: desired `deleted`, status `deleting`.
    pub fn request_delete(&self) -> Result<()> {
        self.store.set_desired(self.id, Desired::Deleted)?;
        self.store.set_status(self.id, Status::Deleting, None)?;
        self.hub.step(self.id, "deletion requested");
        Ok(())
    }

    /// The deleting step begins (`current`: the stored status).
    pub fn deleting(&self, current: Status) -> Result<()> {
        if current != Status::Deleting {
            self.store.set_status(self.id, Status::Deleting, None)?;
        }
        self.announce(LifecycleEvent::Status(Status::Deleting));
        Ok(())
    }

    /// Every object is gone: announce it, then drop the record.
    pub fn deleted(&self) -> Result<()> {
        self.endpoints.remove(self.id);
        self.announce(LifecycleEvent::Deleted);
        self.store.delete_deployment(self.id)?;
        self.hub.forget(self.id);
        Ok(())
    }

    /// Idle: desired `stopped`; clients arriving from now on are held until
    /// it wakes. On a store failure the power goes back to awake.
    pub fn go_to_sleep(&self) -> Result<()> {
        let net = self.endpoints.net(self.id);
        net.set_power(Power::Stopping);
        net.unroute_all();
        self.store
            .set_desired(self.id, Desired::Stopped)
            .inspect_err(|_| net.set_power(Power::Awake))
    }

    /// Briefly idle: desired `paused`; clients arriving from now on are held
    /// until it is thawed. On a store failure the power goes back to awake.
    pub fn go_to_pause(&self) -> Result<()> {
        let net = self.endpoints.net(self.id);
        net.set_power(Power::Paused);
        net.unroute_all();
        self.store
            .set_desired(self.id, Desired::Paused)
            .inspect_err(|_| net.set_power(Power::Awake))
    }

    /// Frozen. `Ok(true)` when this is news (it was not paused before).
    /// A client that arrived while the containers froze already asked for
    /// the wake (desired `running`, status `waking`): that status stays,
    /// `Ok(false)`.
    pub fn paused(&self, current: Status) -> Result<bool> {
        let net = self.endpoints.net(self.id);
        if net.power() != Power::Waking {
            net.set_power(Power::Paused);
        }
        if current == Status::Paused
            || !self
                .store
                .set_status_while_desired(self.id, Status::Paused, Desired::Paused)?
        {
            return Ok(false);
        }
        net.pauses
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.announce(LifecycleEvent::Status(Status::Paused));
        Ok(true)
    }

    /// The sleeping step begins: no client is routed any more (new ones
    /// are held).
    pub fn stop_routing(&self) {
        let net = self.endpoints.net(self.id);
        if net.power() != Power::Asleep {
            net.set_power(Power::Stopping);
        }
        net.unroute_all();
    }

    /// Containers are being stopped (`running`: some still run).
    pub fn stopping(&self, current: Status, running: bool) -> Result<()> {
        if running && current != Status::Stopping {
            self.set(Status::Stopping, None)?;
        }
        Ok(())
    }

    /// Asleep. `Ok(true)` when this is news (it was not stopped before).
    /// A client held while it stopped may wake it from here on; once its
    /// wake is asked for (desired `running`, status `waking`) that status
    /// stays: `Ok(false)`.
    pub fn stopped(&self, current: Status) -> Result<bool> {
        self.endpoints.net(self.id).set_power(Power::Asleep);
        if current == Status::Stopped {
            return Ok(false);
        }
        self.store
            .set_status_while_desired(self.id, Status::Stopped, Desired::Stopped)
    }

    /// Announce `stopped` (after the step saying what was kept).
    pub fn announce_stopped(&self) {
        self.announce(LifecycleEvent::Status(Status::Stopped));
    }

    /// A client arrived while it sleeps: desired `running`, status `waking`.
    pub fn waking(&self, reason: &str) -> Result<()> {
        self.store.set_desired(self.id, Desired::Running)?;
        self.store.set_status(self.id, Status::Waking, None)?;
        let net = self.endpoints.net(self.id);
        net.wakes.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        net.set_power(Power::Waking);
        self.hub.step(self.id, &format!("waking: {reason}"));
        self.announce(LifecycleEvent::Status(Status::Waking));
        Ok(())
    }

    /// A reconcile of a sleeping deployment's endpoints begins waking it.
    pub fn begin_wake(&self) {
        let net = self.endpoints.net(self.id);
        if matches!(net.power(), Power::Asleep | Power::Stopping) {
            net.set_power(Power::Waking);
        }
    }
}
