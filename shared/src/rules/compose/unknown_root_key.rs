use super::support;
use crate::declare_rule;
use crate::model::keys;
use crate::rules::{Context, Rule, Sink};

declare_rule! {
    /// ## What
    /// A top-level key that neither compose nor Omnistrate knows, and that is
    /// not an `x-` extension.
    ///
    /// ## Why
    /// Unknown keys are rejected when the spec is uploaded, and they are
    /// usually a typo of a real key (`service:` for `services:`) whose content
    /// is then silently missing.
    ///
    /// ## Example
    /// ```yaml
    /// service:          # did you mean `services`?
    ///   Web:
    ///     image: nginx
    /// ```
    pub struct UnknownRootKey {
        code: "C001",
        name: "unknown-root-key",
        severity: Error,
        layer: Compose,
        summary: "A top-level key is not a known compose or Omnistrate key",
        help: "Remove the key, fix its spelling, or prefix it with `x-` to keep it as an extension.",
        fixable: true,
    }
}

impl Rule for UnknownRootKey {
    fn check(&self, ctx: &Context, sink: &mut Sink) {
        let Some(root) = ctx.spec.root else { return };
        let mut suggester = support::schema_suggester(&keys::ROOT);
        support::report_unknown_keys(ctx, sink, root, &keys::ROOT, &mut suggester);
    }
}
