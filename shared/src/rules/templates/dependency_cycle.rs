use std::collections::{BTreeMap, HashSet, VecDeque};

use crate::declare_rule;
use crate::graph::{EdgeKind, GraphEdge};
use crate::rules::{Context, Rule, Sink};

declare_rule! {
    /// ## What
    /// Resources depend on each other in a circle through `Resource` links
    /// (`dependentResourceKey`) and `$<resource>.…` references, possibly mixed
    /// with `depends_on` (a cycle of `depends_on` alone is C010).
    ///
    /// ## Why
    /// Linked resources are created bottom-up: each needs the other to exist
    /// first, so none of them can ever be deployed.
    ///
    /// ## Example
    /// ```yaml
    /// Master:
    ///   environment:
    ///     - REPLICA_HOST=$replica.sys.network.internalClusterEndpoint
    /// Replica:
    ///   environment:
    ///     - MYSQL_MASTER_HOST=$master.sys.network.internalClusterEndpoint
    /// ```
    pub struct DependencyCycle {
        code: "T007",
        name: "dependency-cycle",
        severity: Error,
        layer: Templates,
        summary: "Resources link to or reference each other in a cycle",
        help: "Break the cycle: remove one of these links or references (pass the value the other way, or through a parameter group).",
        fixable: false,
    }
}

fn describe(edge: &GraphEdge) -> String {
    match edge.kind {
        EdgeKind::ResourceLink => format!("links to `{}` (`{}`)", edge.to, edge.via),
        EdgeKind::DependsOn => format!("depends on `{}`", edge.to),
        EdgeKind::Reference => format!("references `{}` in `{}`", edge.to, edge.via),
    }
}

/// Shortest path of resources from `from` to `to` over the cycle edges.
fn path_back(edges: &[&GraphEdge], from: &str, to: &str) -> Option<Vec<String>> {
    let mut previous: BTreeMap<&str, &str> = BTreeMap::new();
    let mut queue = VecDeque::from([from]);
    while let Some(at) = queue.pop_front() {
        if at == to {
            let mut path = vec![to.to_owned()];
            let mut cursor = to;
            while cursor != from {
                cursor = previous[cursor];
                path.push(cursor.to_owned());
            }
            path.reverse();
            return Some(path);
        }
        for edge in edges.iter().filter(|e| e.from == at) {
            let next = edge.to.as_str();
            if next != from && !previous.contains_key(next) {
                previous.insert(next, at);
                queue.push_back(next);
            }
        }
    }
    None
}

impl Rule for DependencyCycle {
    fn check(&self, ctx: &Context, sink: &mut Sink) {
        let graph = ctx.graph;
        // Cycles over every kind of edge; a cycle made of `depends_on` alone
        // is C010's, so only its edges are left out here.
        let indices = graph.cycle_edges(&[
            EdgeKind::ResourceLink,
            EdgeKind::Reference,
            EdgeKind::DependsOn,
        ]);
        let depends_on_only = graph.cycle_edges(&[EdgeKind::DependsOn]);
        let cycle: Vec<&GraphEdge> = indices.iter().map(|i| &graph.edges[*i]).collect();
        let reported = indices
            .iter()
            .filter(|i| !depends_on_only.contains(i))
            .map(|i| &graph.edges[*i]);
        // One diagnostic per cycle, on its first reported edge, with the
        // cycle's other edges as related locations.
        let mut covered: HashSet<*const GraphEdge> = HashSet::new();
        for edge in reported {
            if covered.contains(&(edge as *const GraphEdge)) {
                continue;
            }
            let mut names = vec![edge.from.clone()];
            match path_back(&cycle, &edge.to, &edge.from) {
                Some(path) => names.extend(path),
                None => names.push(edge.to.clone()),
            }
            let others: Vec<&GraphEdge> = names
                .windows(2)
                .skip(1)
                .filter_map(|pair| {
                    cycle
                        .iter()
                        .copied()
                        .find(|e| e.from == pair[0] && e.to == pair[1])
                })
                .collect();
            covered.insert(edge as *const GraphEdge);
            covered.extend(others.iter().map(|e| *e as *const GraphEdge));
            let d = sink.at_span(
                edge.span,
                Some(edge.node),
                format!(
                    "`{}` {}, which closes a dependency cycle: {}",
                    edge.from,
                    describe(edge),
                    names.join(" → ")
                ),
            );
            for other in others {
                d.related(other.span, format!("`{}` {}", other.from, describe(other)));
            }
        }
    }
}
