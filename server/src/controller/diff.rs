//! The desired-vs-observed diff, pure: what a reconcile step must do to the
//! engine's objects so they match the planned stack. [`diff`] is the only
//! place that compares the two (the reconcile, the repair watch and the warm
//! spares read it).

use std::collections::{BTreeMap, BTreeSet};

use crate::docker::{ContainerState, Observed, ObservedContainer};
use crate::plan::{DesiredContainer, DesiredStack};

/// What to do to one planned container.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// It does not exist: create (and start) it.
    Create,
    /// Its settings changed: replace it, keeping these host ports
    /// (container port → host port) so endpoints survive.
    Recreate(BTreeMap<u16, u16>),
    /// It exists with its settings but does not run.
    Start,
    /// It is frozen (the paused tier): thaw it.
    Unpause,
}

/// The changes from `observed` to `stack`.
#[derive(Debug, Default)]
pub struct Diff<'a> {
    /// The deployment's network does not exist.
    pub network_missing: bool,
    /// Serving (non-spare) containers to create, replace or start, in plan
    /// order. Spares are kept warm after the replicas are ready.
    pub todo: Vec<(&'a DesiredContainer, Action)>,
    /// Containers the plan no longer has (scale-down, leftovers): drained
    /// and removed.
    pub extra: Vec<&'a ObservedContainer>,
    /// Volumes of replicas past the plan's count (a scale-down the user or
    /// the autoscaler asked for): removed after the containers in `extra`.
    /// Listed whether or not their container still exists, so a removal a
    /// crash interrupted between the two is finished. Only volumes named
    /// for a mount of a planned service's replica past its count
    /// ([`DesiredStack::volume_owner`]): the master's, a planned replica's
    /// and any name the plan does not make are never listed.
    pub retired_volumes: Vec<&'a str>,
    /// Serving containers that do not run (missing or stopped): what the
    /// repair watch looks for.
    pub broken: Vec<&'a DesiredContainer>,
}

impl Diff<'_> {
    /// Nothing to change.
    pub fn is_empty(&self) -> bool {
        !self.network_missing && self.todo.is_empty() && self.extra.is_empty()
    }
}

/// What to do to one planned container (`None`: it is as planned).
pub(super) fn action_for(
    c: &DesiredContainer,
    observed: Option<&ObservedContainer>,
) -> Option<Action> {
    match observed {
        None => Some(Action::Create),
        Some(o) if o.config_hash != c.config_hash => Some(Action::Recreate(o.ports.clone())),
        Some(o) if o.status() == ContainerState::Paused => Some(Action::Unpause),
        Some(o) if !o.running() => Some(Action::Start),
        Some(_) => None,
    }
}

/// A container that shares another's network namespace (`network_mode:
/// service:X`) joins the namespace X has when it is created; a created,
/// replaced or restarted X has a new one, and a sharer left running would
/// keep the dead one (no network, silently). Such sharers are replaced too,
/// after X (the todo keeps plan order and they go last).
fn rejoin_shared_networks<'a>(
    stack: &'a DesiredStack,
    observed: &'a Observed,
    todo: &mut Vec<(&'a DesiredContainer, Action)>,
) {
    let renewed: BTreeSet<&str> = todo
        .iter()
        .filter(|(_, a)| matches!(a, Action::Create | Action::Recreate(_) | Action::Start))
        .map(|(c, _)| c.name.as_str())
        .collect();
    let sharers: Vec<(&DesiredContainer, Action)> = stack
        .active()
        .filter(|c| {
            c.network_of
                .as_deref()
                .is_some_and(|of| renewed.contains(of))
        })
        .filter(|c| !todo.iter().any(|(t, _)| t.name == c.name))
        .filter_map(|c| {
            let o = observed.container(&c.name)?;
            Some((c, Action::Recreate(o.ports.clone())))
        })
        .collect();
    todo.extend(sharers);
}

/// Compare a planned stack with what the engine reports.
pub fn diff<'a>(stack: &'a DesiredStack, observed: &'a Observed) -> Diff<'a> {
    let planned: BTreeSet<&str> = stack.containers.iter().map(|c| c.name.as_str()).collect();
    let extra: Vec<&ObservedContainer> = observed
        .containers
        .iter()
        .filter(|o| !planned.contains(o.name.as_str()))
        .collect();
    let mut todo = stack
        .active()
        .filter_map(|c| Some((c, action_for(c, observed.container(&c.name))?)))
        .collect();
    rejoin_shared_networks(stack, observed, &mut todo);
    let wanted = planned_volumes(stack);
    let retired_volumes = observed
        .volumes
        .iter()
        .map(String::as_str)
        .filter(|v| !wanted.contains(v))
        .filter(|v| {
            stack
                .volume_owner(v)
                .is_some_and(|(s, replica)| replica >= s.replicas + s.spares)
        })
        .collect();
    let broken = stack
        .active()
        .filter(|c| !observed.container(&c.name).is_some_and(|o| o.running()))
        .collect();
    Diff {
        broken,
        network_missing: !observed.networks.contains(&stack.network),
        todo,
        extra,
        retired_volumes,
    }
}

/// Every volume a planned container (spares included) mounts.
fn planned_volumes(stack: &DesiredStack) -> BTreeSet<&str> {
    stack
        .containers
        .iter()
        .flat_map(|c| c.volumes.iter().map(|v| v.name.as_str()))
        .collect()
}

/// Of the volumes a scale-down marked retired (in the store, before it
/// removed anything): those a planned container mounts again while that
/// container does not exist — the scale-down's removal was interrupted
/// after the container went, and the replica was scaled back up before the
/// volume followed. Its data is what the user asked to drop, stale by now:
/// removed, so the re-created replica starts empty and catches up from its
/// master. (A marked volume whose container still exists never stopped
/// being that replica's: it is kept.)
pub fn stale_volumes<'a>(
    stack: &'a DesiredStack,
    observed: &Observed,
    marked: &BTreeSet<String>,
) -> Vec<&'a str> {
    stack
        .containers
        .iter()
        .filter(|c| observed.container(&c.name).is_none())
        .flat_map(|c| c.volumes.iter().map(|v| v.name.as_str()))
        .filter(|v| marked.contains(*v) && observed.volumes.iter().any(|o| o == v))
        .collect()
}
