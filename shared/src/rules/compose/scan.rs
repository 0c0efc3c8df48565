//! The nodes C014 and C022 judge: the scalars holding a `$` (C014 checks
//! their interpolation) and the keys that may not be strings (C022). The
//! tree builder notes them as it creates each node, while the node is in
//! the cache (`syntax::RuleCandidates`), so no rule walks every node.

use crate::rules::Context;
use crate::syntax::RuleCandidates;

pub(crate) fn node_scan<'c>(ctx: &'c Context) -> &'c RuleCandidates {
    &ctx.tree.candidates
}
