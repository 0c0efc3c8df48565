//! The resource dependency graph: who needs whom, and through what.

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use crate::model::Spec;
use crate::span::Span;
use crate::syntax::NodeId;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ResourceKind {
    /// Runs containers.
    Compute,
    /// `omnistrate/noop`: holds parameters only.
    Passive,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum EdgeKind {
    /// An API param's `dependentResourceKey`.
    ResourceLink,
    /// A `$resource.…` template.
    Reference,
    /// Compose `depends_on`.
    DependsOn,
}

impl EdgeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EdgeKind::ResourceLink => "resource-link",
            EdgeKind::Reference => "reference",
            EdgeKind::DependsOn => "depends-on",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GraphNode {
    pub id: String,
    pub kind: ResourceKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// The service name in the source.
    #[serde(skip)]
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GraphEdge {
    /// The dependent resource.
    pub from: String,
    /// The resource it depends on.
    pub to: String,
    pub kind: EdgeKind,
    /// The param key, env var or field that creates the edge.
    pub via: String,
    /// Part of a dependency cycle.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub cycle: bool,
    /// The token that creates the edge.
    #[serde(skip)]
    pub span: Span,
    #[serde(skip)]
    pub node: NodeId,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Graph {
    pub nodes: Vec<GraphNode>,
    pub edges: Vec<GraphEdge>,
    /// (from, to, kind, via) of every edge, to keep edges unique in O(1).
    #[serde(skip)]
    seen: HashSet<(String, String, EdgeKind, String)>,
}

impl Graph {
    pub fn build(spec: &Spec) -> Graph {
        let mut graph = Graph {
            nodes: spec
                .services
                .iter()
                .map(|s| GraphNode {
                    id: s.name.value.clone(),
                    kind: if s.is_passive() {
                        ResourceKind::Passive
                    } else {
                        ResourceKind::Compute
                    },
                    image: s.image.as_ref().map(|i| i.value.clone()),
                    span: s.name.span,
                })
                .collect(),
            edges: Vec::new(),
            seen: HashSet::new(),
        };
        for service in &spec.services {
            let from = &service.name.value;
            for param in &service.api_params {
                let (Some(target), Some(key)) = (&param.dependent_resource_key, &param.key) else {
                    continue;
                };
                if &target.value != from && spec.service(&target.value).is_some() {
                    graph.push(
                        from,
                        &target.value,
                        EdgeKind::ResourceLink,
                        &key.value,
                        target.span,
                        target.node,
                    );
                }
            }
            for dep in &service.depends_on {
                if &dep.service.value != from && spec.service(&dep.service.value).is_some() {
                    graph.push(
                        from,
                        &dep.service.value,
                        EdgeKind::DependsOn,
                        "depends_on",
                        dep.service.span,
                        dep.service.node,
                    );
                }
            }
        }
        for usage in &spec.templates {
            let crate::template::RefScope::Resource(key) = &usage.reference.scope else {
                continue;
            };
            let from = &spec.services[usage.service].name.value;
            if let Some(target) = spec.service_by_resource_key(key) {
                if &target.name.value != from {
                    let to = target.name.value.clone();
                    graph.push(
                        from,
                        &to,
                        EdgeKind::Reference,
                        &usage.via,
                        usage.span,
                        usage.node,
                    );
                }
            }
        }
        let in_cycle = graph.cycle_edges(&[
            EdgeKind::ResourceLink,
            EdgeKind::Reference,
            EdgeKind::DependsOn,
        ]);
        for index in in_cycle {
            graph.edges[index].cycle = true;
        }
        graph
    }

    fn push(&mut self, from: &str, to: &str, kind: EdgeKind, via: &str, span: Span, node: NodeId) {
        if self
            .seen
            .insert((from.to_owned(), to.to_owned(), kind, via.to_owned()))
        {
            self.edges.push(GraphEdge {
                from: from.to_owned(),
                to: to.to_owned(),
                kind,
                via: via.to_owned(),
                cycle: false,
                span,
                node,
            });
        }
    }

    /// Indices of the edges (of the given kinds) that lie on a cycle: both ends
    /// in one strongly connected component.
    pub fn cycle_edges(&self, kinds: &[EdgeKind]) -> Vec<usize> {
        let n = self.nodes.len();
        let mut index_of: HashMap<&str, usize> = HashMap::with_capacity(n);
        for (i, node) in self.nodes.iter().enumerate() {
            index_of.entry(node.id.as_str()).or_insert(i);
        }
        let mut adjacency = vec![Vec::new(); n];
        let mut ends = Vec::with_capacity(self.edges.len());
        for edge in &self.edges {
            let pair = (
                index_of.get(edge.from.as_str()).copied(),
                index_of.get(edge.to.as_str()).copied(),
            );
            ends.push(pair);
            if let (Some(a), Some(b)) = pair {
                if kinds.contains(&edge.kind) {
                    adjacency[a].push(b);
                }
            }
        }
        let component = strongly_connected(&adjacency);
        self.edges
            .iter()
            .enumerate()
            .filter(|(i, edge)| {
                kinds.contains(&edge.kind)
                    && matches!(ends[*i], (Some(a), Some(b)) if component[a] == component[b])
            })
            .map(|(i, _)| i)
            .collect()
    }
}

/// Component id per vertex (Tarjan's algorithm, iterative so deep graphs
/// cannot overflow the stack).
fn strongly_connected(adjacency: &[Vec<usize>]) -> Vec<usize> {
    let n = adjacency.len();
    const UNSEEN: usize = usize::MAX;
    let mut index = vec![UNSEEN; n];
    let mut low = vec![0; n];
    let mut on_stack = vec![false; n];
    let mut component = vec![UNSEEN; n];
    let mut stack = Vec::new();
    let mut next_index = 0;
    let mut next_component = 0;
    for root in 0..n {
        if index[root] != UNSEEN {
            continue;
        }
        let mut work: Vec<(usize, usize)> = vec![(root, 0)];
        while let Some(&(v, child)) = work.last() {
            if child == 0 && index[v] == UNSEEN {
                index[v] = next_index;
                low[v] = next_index;
                next_index += 1;
                stack.push(v);
                on_stack[v] = true;
            }
            if let Some(&w) = adjacency[v].get(child) {
                if let Some(top) = work.last_mut() {
                    top.1 += 1;
                }
                if index[w] == UNSEEN {
                    work.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
                continue;
            }
            work.pop();
            if let Some(&(parent, _)) = work.last() {
                low[parent] = low[parent].min(low[v]);
            }
            if low[v] == index[v] {
                while let Some(w) = stack.pop() {
                    on_stack[w] = false;
                    component[w] = next_component;
                    if w == v {
                        break;
                    }
                }
                next_component += 1;
            }
        }
    }
    component
}

#[cfg(test)]
mod tests {
    use super::strongly_connected;

    #[test]
    fn finds_components() {
        let adjacency = vec![vec![1], vec![2], vec![0], vec![0]];
        let c = strongly_connected(&adjacency);
        assert_eq!(c[0], c[1]);
        assert_eq!(c[1], c[2]);
        assert_ne!(c[3], c[0]);
    }
}
