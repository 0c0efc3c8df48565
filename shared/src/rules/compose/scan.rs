//! One walk over every node for the rules that would each walk them all:
//! the scalars holding a `$` (C014 judges their interpolation) and the keys
//! that may not be strings (C022). Found once per analysis, in node order;
//! the rules then look only at these few nodes.

use crate::rules::Context;
use crate::syntax::{scalar, NodeId, NodeKind, ScalarStyle, Seg};

#[derive(Default)]
pub(crate) struct NodeScan {
    /// Value scalars (not keys) whose text holds a `$`.
    pub dollar_values: Vec<NodeId>,
    /// Keys that are collections, or plain untagged scalars that may read as
    /// a null, a boolean or a number.
    pub odd_keys: Vec<NodeId>,
}

pub(crate) fn node_scan<'c>(ctx: &'c Context) -> &'c NodeScan {
    ctx.node_scan.get_or_init(|| scan(ctx))
}

fn scan(ctx: &Context) -> NodeScan {
    let text = ctx.text.as_bytes();
    let mut out = NodeScan::default();
    for (id, node) in ctx.tree.nodes.iter().enumerate() {
        let id = id as NodeId;
        let is_key = matches!(node.seg, Seg::KeyOf(_));
        match &node.kind {
            NodeKind::Scalar(s) => {
                // A verbatim scalar is looked at in the source, read in
                // order, rather than through its own string on the heap.
                let source = s.exact.map(|at| &text[at.start..at.end]);
                if is_key {
                    let may_be_odd = !s.tagged
                        && s.style == ScalarStyle::Plain
                        && source.is_none_or(|b| {
                            b.first().is_none_or(|c| scalar::may_start_non_string(*c))
                        });
                    if may_be_odd {
                        out.odd_keys.push(id);
                    }
                } else if source.map_or_else(|| s.value.contains('$'), |b| b.contains(&b'$')) {
                    out.dollar_values.push(id);
                }
            }
            NodeKind::Mapping(_) | NodeKind::Sequence(_) if is_key => out.odd_keys.push(id),
            _ => {}
        }
    }
    out
}
