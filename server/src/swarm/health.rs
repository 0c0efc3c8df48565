//! Which instances a lost node took with it: the first step of node-failure
//! handling (the deployment turns `degraded` with the node named; a replica
//! is then re-created elsewhere, the master is not: see
//! `docs/design/engines.md`).
//!
//! Pure: the repair watch feeds it what the manager says (nodes) and where
//! each instance is pinned (its placement).

use super::{Placement, SwarmNode};

/// An instance whose node is not ready (down, unreachable, or gone from the
/// swarm).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LostInstance {
    pub service: String,
    pub node_id: String,
    /// The node's hostname, for the event; the id when the swarm forgot it.
    pub node: String,
    pub zone: Option<String>,
}

/// The pinned instances (in the given order) whose node is not ready.
/// Unpinned instances are the scheduler's to place: not lost, just pending.
pub fn lost_instances<'a>(
    nodes: &[SwarmNode],
    instances: impl IntoIterator<Item = (&'a str, &'a Placement)>,
) -> Vec<LostInstance> {
    instances
        .into_iter()
        .filter_map(|(service, placement)| {
            let Placement::Pinned { node_id, zone } = placement else {
                return None;
            };
            let node = nodes.iter().find(|n| &n.id == node_id);
            if node.is_some_and(|n| n.ready) {
                return None;
            }
            Some(LostInstance {
                service: service.to_owned(),
                node_id: node_id.clone(),
                node: node.map_or_else(|| node_id.clone(), |n| n.hostname.clone()),
                zone: zone.clone(),
            })
        })
        .collect()
}

/// Where a lost replica should come back: a ready node's zone, the lost
/// zone first, else the ready zone holding the fewest of `placed` (the
/// zones of the service's other instances); `None` when no ready node has
/// a zone.
pub fn replacement_zone(
    nodes: &[SwarmNode],
    lost_zone: Option<&str>,
    placed: &[&str],
) -> Option<String> {
    let mut ready: Vec<&str> = nodes
        .iter()
        .filter(|n| n.ready)
        .filter_map(|n| n.zone.as_deref())
        .collect();
    ready.sort_unstable();
    ready.dedup();
    if let Some(z) = lost_zone.filter(|z| ready.contains(z)) {
        return Some(z.to_owned());
    }
    ready
        .into_iter()
        .min_by_key(|z| placed.iter().filter(|p| *p == z).count())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(id: &str, ready: bool, zone: &str) -> SwarmNode {
        SwarmNode {
            id: id.into(),
            hostname: format!("host-{id}"),
            ready,
            manager: false,
            addr: String::new(),
            zone: Some(zone.into()),
        }
    }

    fn pinned(node_id: &str, zone: &str) -> Placement {
        Placement::Pinned {
            node_id: node_id.into(),
            zone: Some(zone.into()),
        }
    }

    #[test]
    fn pinned_instances_on_down_or_vanished_nodes_are_lost() {
        let nodes = [
            node("n1", true, "zone-a"),
            node("n2", false, "zone-b"),
            node("n3", true, "zone-c"),
        ];
        let (a, b, gone, zoned) = (
            pinned("n1", "zone-a"),
            pinned("n2", "zone-b"),
            pinned("n9", "zone-c"),
            Placement::Zone("zone-b".into()),
        );
        let lost = lost_instances(
            &nodes,
            [
                ("master", &a),
                ("replica-0", &b),
                ("replica-1", &gone),
                ("replica-2", &zoned),
            ],
        );
        assert_eq!(
            lost,
            [
                LostInstance {
                    service: "replica-0".into(),
                    node_id: "n2".into(),
                    node: "host-n2".into(),
                    zone: Some("zone-b".into()),
                },
                LostInstance {
                    service: "replica-1".into(),
                    node_id: "n9".into(),
                    node: "n9".into(),
                    zone: Some("zone-c".into()),
                },
            ]
        );
    }

    #[test]
    fn replacement_prefers_the_same_zone_then_the_emptiest() {
        let nodes = [
            node("n1", true, "zone-a"),
            node("n2", false, "zone-b"),
            node("n3", true, "zone-c"),
            node("n4", true, "zone-b"),
        ];
        // zone-b still has a ready node
        assert_eq!(
            replacement_zone(&nodes, Some("zone-b"), &["zone-a"]).as_deref(),
            Some("zone-b")
        );
        let nodes = &nodes[..3];
        // zone-b is gone: the ready zone with the fewest instances
        assert_eq!(
            replacement_zone(nodes, Some("zone-b"), &["zone-a", "zone-a", "zone-c"]).as_deref(),
            Some("zone-c")
        );
        assert_eq!(
            replacement_zone(nodes, Some("zone-b"), &[]).as_deref(),
            Some("zone-a")
        );
        let all_down = [node("n1", false, "zone-a")];
        assert_eq!(replacement_zone(&all_down, Some("zone-a"), &[]), None);
    }
}
