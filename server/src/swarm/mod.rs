//! The Docker Swarm engine (issue 13, `serve --engine swarm`).
//!
//! - [`mapping`]: pure functions from one planned instance ([`InstanceInput`],
//!   our own small struct, so this module does not depend on the planner's
//!   shape) to bollard's swarm types: the deployment's attachable overlay
//!   network, one single-task service per MySQL instance, zone spread and node
//!   pinning, resources, `dnsrr` + host-mode published ports.
//! - [`compose_keys`]: the compose keys a service carries, and the ones the
//!   engine refuses (a `422` naming the key, never a silent drop).
//! - [`nodes`]: what the manager says about nodes and tasks (ready nodes and
//!   their zones, where a service's task runs and on which host port), and the
//!   per-node image check (no registry: a missing image is a 422 naming the
//!   node).
//! - [`secrets`]: passwords as swarm secrets read through the image's
//!   `<VAR>_FILE` variables (never in the service spec).
//! - [`health`]: which pinned instances a lost node took with it, and where a
//!   lost replica should come back (node-failure handling, step one).
//!
//! Why these shapes: the kernel here has no IPVS (no VIPs, no ingress routing
//! mesh) and no ESP (no encrypted overlays); see `docs/design/engines.md`.

pub mod compose_keys;
pub mod engine;
pub mod health;
pub mod mapping;
pub mod nodes;
pub mod secrets;

pub use engine::SwarmEngine;
pub use health::{lost_instances, replacement_zone, LostInstance};
pub use mapping::{
    instance_service, overlay_network, spread_zones, InstanceInput, Placement, PortInput,
    VolumeInput, ZoneSpread,
};
pub use nodes::{NodeEndpoint, SwarmError, SwarmNode, TaskPlacement};

/// The node label that names a node's zone (`docker node update --label-add
/// zone=zone-a`); constraints and spread preferences refer to it.
pub const ZONE_LABEL: &str = "zone";
