use crate::declare_rule;
use crate::rules::{Context, Rule, Sink};
use crate::syntax::{scalar, NodeKind, ScalarStyle, ScalarValue, Seg};

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
        for (id, node) in tree.nodes.iter().enumerate() {
            if !matches!(node.seg, Seg::KeyOf(_)) {
                continue;
            }
            let id = id as u32;
            let what = match &node.kind {
                NodeKind::Scalar(s) if s.tagged || s.style != ScalarStyle::Plain => continue,
                // Most keys are words: only a null, a boolean or a number
                // reads as something else, and those start with one of these
                // bytes (read from the source, in order, not from the heap).
                NodeKind::Scalar(s)
                    if s.exact.is_some_and(|at| {
                        at.start < at.end
                            && !scalar::may_start_non_string(ctx.text.as_bytes()[at.start])
                    }) =>
                {
                    continue
                }
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
