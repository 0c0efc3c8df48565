use std::collections::{HashMap, HashSet, VecDeque};

use crate::declare_rule;
use crate::graph::{EdgeKind, Graph};
use crate::rules::{Context, Rule, Sink};

declare_rule! {
    /// ## What
    /// Services whose `depends_on` entries form a cycle (`A` waits for `B`,
    /// which waits for `A`). Each cycle is reported once, on its first entry,
    /// with the other entries as related locations.
    ///
    /// ## Why
    /// `depends_on` orders provisioning; in a cycle no service can start
    /// first, so compose refuses the spec.
    ///
    /// ## Example
    /// ```yaml
    /// services:
    ///   Master:
    ///     image: mysql:8
    ///     depends_on: [Replica]
    ///   Replica:
    ///     image: mysql:8
    ///     depends_on: [Master]
    /// ```
    pub struct DependsOnCycle {
        code: "C010",
        name: "depends-on-cycle",
        severity: Error,
        layer: Compose,
        summary: "`depends_on` entries form a cycle",
        help: "Remove one `depends_on` entry of the cycle; the service that starts first must not wait for the others.",
        fixable: false,
    }
}

/// How many cycle paths are spelled out; later entries get a shorter message
/// (each path is a breadth-first search over the whole graph).
const MAX_PATHS: usize = 64;

/// Names shown in one cycle message before the middle is elided.
const MAX_NAMES: usize = 8;

/// The `depends_on` edges as adjacency lists over node indices.
struct DependsOn<'g> {
    names: Vec<&'g str>,
    next: Vec<Vec<usize>>,
    index: HashMap<&'g str, usize>,
}

impl<'g> DependsOn<'g> {
    fn new(graph: &'g Graph) -> Self {
        let names: Vec<&str> = graph.nodes.iter().map(|n| n.id.as_str()).collect();
        let mut index = HashMap::with_capacity(names.len());
        for (i, name) in names.iter().enumerate() {
            index.entry(*name).or_insert(i);
        }
        let mut next = vec![Vec::new(); names.len()];
        for edge in &graph.edges {
            if edge.kind != EdgeKind::DependsOn {
                continue;
            }
            if let (Some(&a), Some(&b)) =
                (index.get(edge.from.as_str()), index.get(edge.to.as_str()))
            {
                next[a].push(b);
            }
        }
        DependsOn { names, next, index }
    }

    /// The shortest path `from` → … → `to` (both included).
    fn shortest_path(&self, from: &str, to: &str) -> Option<Vec<&'g str>> {
        let (&from, &to) = (self.index.get(from)?, self.index.get(to)?);
        let mut previous = vec![usize::MAX; self.names.len()];
        previous[from] = from;
        let mut queue = VecDeque::from([from]);
        while let Some(node) = queue.pop_front() {
            if node == to {
                let mut path = vec![self.names[node]];
                let mut current = node;
                while current != from {
                    current = previous[current];
                    path.push(self.names[current]);
                }
                path.reverse();
                return Some(path);
            }
            for &n in &self.next[node] {
                if previous[n] == usize::MAX {
                    previous[n] = node;
                    queue.push_back(n);
                }
            }
        }
        None
    }
}

/// `` `A` → `B` → `A` ``, with the middle of a long cycle elided.
fn show_cycle(cycle: &[&str]) -> String {
    let mut names: Vec<String> = cycle.iter().map(|n| format!("`{n}`")).collect();
    if names.len() > MAX_NAMES {
        let last = names.pop().unwrap_or_default();
        names.truncate(MAX_NAMES - 2);
        names.push("…".to_owned());
        names.push(last);
    }
    names.join(" → ")
}

impl Rule for DependsOnCycle {
    fn check(&self, ctx: &Context, sink: &mut Sink) {
        let graph = ctx.graph;
        let cycle_edges = graph.cycle_edges(&[EdgeKind::DependsOn]);
        if cycle_edges.is_empty() {
            return;
        }
        let deps = DependsOn::new(graph);
        // One diagnostic per cycle: on its first edge, with the other edges as
        // related locations; a rotation of a reported cycle adds nothing.
        let by_pair: HashMap<(&str, &str), usize> = cycle_edges
            .iter()
            .map(|&i| {
                (
                    (graph.edges[i].from.as_str(), graph.edges[i].to.as_str()),
                    i,
                )
            })
            .collect();
        let mut covered: HashSet<usize> = HashSet::new();
        let mut paths = 0usize;
        for index in cycle_edges {
            if covered.contains(&index) {
                continue;
            }
            let edge = &graph.edges[index];
            let back = if paths < MAX_PATHS {
                paths += 1;
                deps.shortest_path(&edge.to, &edge.from)
            } else {
                None
            };
            let Some(back) = back else {
                sink.at_span(
                    edge.span,
                    Some(edge.node),
                    format!(
                        "`{}` depends on `{}`, which leads back to `{}` (a `depends_on` cycle)",
                        edge.from, edge.to, edge.from
                    ),
                );
                continue;
            };
            let mut cycle = vec![edge.from.as_str()];
            cycle.extend(back);
            let others: Vec<usize> = cycle
                .windows(2)
                .skip(1)
                .filter_map(|pair| by_pair.get(&(pair[0], pair[1])).copied())
                .collect();
            covered.insert(index);
            covered.extend(others.iter().copied());
            let d = sink.at_span(
                edge.span,
                Some(edge.node),
                format!("`depends_on` cycle: {}", show_cycle(&cycle)),
            );
            for other in others {
                let e = &graph.edges[other];
                d.related(e.span, format!("`{}` depends on `{}`", e.from, e.to));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::show_cycle;

    #[test]
    fn long_cycles_are_elided() {
        assert_eq!(show_cycle(&["A", "B", "A"]), "`A` → `B` → `A`");
        let long: Vec<String> = (0..20).map(|i| format!("S{i}")).collect();
        let mut cycle: Vec<&str> = long.iter().map(String::as_str).collect();
        cycle.push("S0");
        assert_eq!(
            show_cycle(&cycle),
            "`S0` → `S1` → `S2` → `S3` → `S4` → `S5` → … → `S0`"
        );
    }
}
