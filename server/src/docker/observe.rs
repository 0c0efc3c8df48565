//! What an engine reports: the labelled objects of a deployment, one
//! container's state as one enum, and CPU/memory samples.

use std::collections::BTreeMap;

/// A container's state, as Docker names them. Every "is it up?" question of
/// the controller is asked of this one enum (see
/// [`ContainerState::running`] and [`ContainerState::gone_for_good`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContainerState {
    Created,
    Running,
    Paused,
    Restarting,
    Removing,
    Exited,
    Dead,
    /// A word this server does not know (a newer engine).
    Unknown,
}

impl ContainerState {
    pub fn parse(s: &str) -> ContainerState {
        match s {
            "created" => ContainerState::Created,
            "running" => ContainerState::Running,
            "paused" => ContainerState::Paused,
            "restarting" => ContainerState::Restarting,
            "removing" => ContainerState::Removing,
            "exited" => ContainerState::Exited,
            "dead" => ContainerState::Dead,
            _ => ContainerState::Unknown,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ContainerState::Created => "created",
            ContainerState::Running => "running",
            ContainerState::Paused => "paused",
            ContainerState::Restarting => "restarting",
            ContainerState::Removing => "removing",
            ContainerState::Exited => "exited",
            ContainerState::Dead => "dead",
            ContainerState::Unknown => "unknown",
        }
    }

    /// Up and serving (a paused container is not).
    pub fn running(self) -> bool {
        self == ContainerState::Running
    }

    /// Stopped by itself: waiting for it to become ready is pointless. A
    /// restarting container counts (its restart policy is crash-looping it).
    pub fn gone_for_good(self, starting: bool) -> bool {
        match self {
            ContainerState::Exited | ContainerState::Dead => true,
            ContainerState::Restarting => starting,
            _ => false,
        }
    }
}

/// One labelled container as the engine reports it.
#[derive(Clone, Debug)]
pub struct ObservedContainer {
    pub id: String,
    pub name: String,
    pub resource: String,
    pub replica: u32,
    /// The engine's own word for its state (shown as is by the API).
    pub state: String,
    pub config_hash: String,
    /// container port → host port (published on the bind address).
    pub ports: BTreeMap<u16, u16>,
    /// The node it runs on and that node's zone (a multi-node engine;
    /// `None` on one host).
    pub node: Option<String>,
    pub zone: Option<String>,
}

impl ObservedContainer {
    pub fn status(&self) -> ContainerState {
        ContainerState::parse(&self.state)
    }

    pub fn running(&self) -> bool {
        self.status().running()
    }
}

/// Every labelled object of a deployment.
#[derive(Clone, Debug, Default)]
pub struct Observed {
    pub containers: Vec<ObservedContainer>,
    pub networks: Vec<String>,
    pub volumes: Vec<String>,
}

impl Observed {
    pub fn container(&self, name: &str) -> Option<&ObservedContainer> {
        self.containers.iter().find(|o| o.name == name)
    }
}

/// Cumulative CPU time of a container at an instant (Docker stats).
#[derive(Clone, Copy, Debug)]
pub struct UsageSample {
    pub at: std::time::Instant,
    /// Total CPU time used since the container started, in nanoseconds.
    pub cpu_ns: u64,
    pub memory_bytes: u64,
}

impl UsageSample {
    /// CPU used between `earlier` and `self`, as a percent of `limit_cpus`
    /// (the container's CPU limit, or the host's CPUs without one).
    pub fn cpu_percent_since(&self, earlier: &UsageSample, limit_cpus: f64) -> Option<f64> {
        let wall = self.at.checked_duration_since(earlier.at)?.as_nanos() as f64;
        if wall <= 0.0 || limit_cpus <= 0.0 || self.cpu_ns < earlier.cpu_ns {
            return None;
        }
        Some((self.cpu_ns - earlier.cpu_ns) as f64 / wall / limit_cpus * 100.0)
    }
}

#[cfg(test)]
mod tests {
    use super::ContainerState;

    #[test]
    fn states_round_trip_and_classify() {
        for s in [
            "created",
            "running",
            "paused",
            "restarting",
            "removing",
            "exited",
            "dead",
        ] {
            assert_eq!(ContainerState::parse(s).as_str(), s);
        }
        assert_eq!(ContainerState::parse("nonsense"), ContainerState::Unknown);
        assert!(ContainerState::Running.running());
        assert!(!ContainerState::Paused.running());
        assert!(ContainerState::Exited.gone_for_good(false));
        assert!(ContainerState::Restarting.gone_for_good(true));
        assert!(!ContainerState::Restarting.gone_for_good(false));
        assert!(!ContainerState::Created.gone_for_good(true));
    }
}
