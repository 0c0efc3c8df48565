use crate::declare_rule;
use crate::rules::{Context, Rule, Sink};
use crate::syntax::{NodeKind, ScalarValue, Seg};

declare_rule! {
    /// ## What
    /// A mapping key that is not a string: a number, boolean or null key
    /// (`1: x`, `true: y`, `~: z`), or a list or mapping used as a key.
    ///
    /// ## Why
    /// Compose reads every mapping with string keys and refuses others
    /// ("non-string key"). Quote a key that looks like a number: `"8080": x`.
    /// Keys under `x-` extensions are left alone.
    ///
    /// ## Example
    /// ```yaml
    /// services:
    ///   web:
    ///     image: nginx
    ///     labels:
    ///       1: one          # write "1": one
    /// ```
    pub struct NonStringKey {
        code: "C022",
        name: "non-string-key",
        severity: Error,
        layer: Compose,
        summary: "A mapping key is not a string",
        help: "Quote the key (`\"1\": …`) or rename it.",
        fixable: false,
    }
}

impl Rule for NonStringKey {
    fn check(&self, ctx: &Context, sink: &mut Sink) {
        let tree = ctx.tree;
        if ctx.spec.root.is_none() {
            return;
        }
        // Most keys are words: only a collection, or a plain scalar that
        // may read as a null, a boolean or a number, is looked at.
        for &id in &super::scan::node_scan(ctx).odd_keys {
            let what = match &tree.node(id).kind {
                NodeKind::Scalar(s) => match s.typed() {
                    ScalarValue::Str(_) => continue,
                    ScalarValue::Null => "null",
                    ScalarValue::Bool(_) => "a boolean",
                    ScalarValue::Int(_) | ScalarValue::Float(_) => "a number",
                },
                NodeKind::Mapping(_) => "a mapping",
                NodeKind::Sequence(_) => "a list",
                NodeKind::Alias(_) | NodeKind::Invalid => continue,
            };
            // Only now (non-string keys are rare): is it inside an extension?
            if under_extension(ctx, id) {
                continue;
            }
            let mut text = tree.str(id).unwrap_or_default().to_owned();
            if text.is_empty() {
                text = "~".into();
            }
            sink.at_span(
                tree.span(id),
                Some(id),
                format!("mapping key `{text}` is {what}, not a string"),
            );
        }
    }
}

/// Whether a key sits anywhere below an `x-…` key (extensions are free-form).
fn under_extension(ctx: &Context, id: u32) -> bool {
    let tree = ctx.tree;
    let mut current = Some(id);
    let mut hops = 0usize;
    while let Some(n) = current {
        let node = tree.node(n);
        if let Seg::Key(key) | Seg::KeyOf(key) = node.seg {
            if key != n && tree.str(key).is_some_and(|k| k.starts_with("x-")) {
                return true;
            }
        }
        current = node.parent;
        hops += 1;
        if hops > crate::syntax::MAX_DEPTH * 2 {
            break;
        }
    }
    false
}
