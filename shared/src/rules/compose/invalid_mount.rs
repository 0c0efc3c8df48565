use super::support;
use crate::declare_rule;
use crate::rules::{Context, Rule, Sink};
use crate::syntax::{ScalarValue, Shape};

declare_rule! {
    /// ## What
    /// A long-syntax mount compose refuses: a `bind` or `volume`-less `type`
    /// without `source` (bind mounts need the host path), no `target`, an
    /// unknown `type`, or a `tmpfs.size` that is not a byte size (`64m`,
    /// `1gb`, `1048576`).
    ///
    /// ## Why
    /// Compose validates mounts before creating anything ("invalid mount
    /// config for type \"bind\": field Source must not be empty").
    ///
    /// ## Example
    /// ```yaml
    /// services:
    ///   web:
    ///     image: nginx
    ///     volumes:
    ///       - type: bind
    ///         target: /app
    ///       - type: tmpfs
    ///         target: /cache
    ///         tmpfs:
    ///           size: lots
    /// ```
    pub struct InvalidMount {
        code: "C019",
        name: "invalid-mount",
        severity: Error,
        layer: Compose,
        summary: "A long-syntax mount lacks `source`/`target` or has a bad `type` or tmpfs size",
        help: "Give `bind` mounts a `source`, every mount a `target`, `type` one of volume, bind, tmpfs, npipe, cluster, image; tmpfs sizes like `64m`.",
        fixable: false,
    }
}

const TYPES: &[&str] = &["volume", "bind", "tmpfs", "npipe", "cluster", "image"];

/// `1024`, `64m`, `1.5g`, `512kb`, `2GiB`: what compose's unit parser reads.
pub(crate) fn is_byte_size(text: &str) -> bool {
    let t = text.trim().to_ascii_lowercase();
    let digits = t
        .bytes()
        .take_while(|b| b.is_ascii_digit() || *b == b'.')
        .count();
    if digits == 0 || t[..digits].parse::<f64>().is_err() {
        return false;
    }
    matches!(
        &t[digits..],
        "" | "b"
            | "k"
            | "kb"
            | "kib"
            | "m"
            | "mb"
            | "mib"
            | "g"
            | "gb"
            | "gib"
            | "t"
            | "tb"
            | "tib"
            | "p"
            | "pb"
            | "pib"
    )
}

impl Rule for InvalidMount {
    fn check(&self, ctx: &Context, sink: &mut Sink) {
        let tree = ctx.tree;
        for service in &ctx.spec.services {
            let Some(volumes) = tree.get_value(service.node, "volumes") else {
                continue;
            };
            for item in tree.items(volumes) {
                if tree.shape(*item) != Shape::Mapping {
                    continue;
                }
                let anchor = support::first_line(ctx.text, tree.span(*item));
                let ty = tree
                    .get_value(*item, "type")
                    .and_then(|n| tree.str(n).map(|s| (n, s)));
                let ty_name = ty.map_or("volume", |(_, s)| s);
                if let Some((node, name)) = ty {
                    if !TYPES.contains(&name) && !crate::interpolation::needs_interpolation(name) {
                        sink.at(node, format!("unknown mount type `{name}`"));
                        continue;
                    }
                }
                let has = |key: &str| {
                    tree.get_value(*item, key)
                        .is_some_and(|n| tree.str(n).is_none_or(|s| !s.trim().is_empty()))
                };
                if ty_name == "bind" && !has("source") {
                    sink.at_span(
                        anchor,
                        Some(*item),
                        "a `bind` mount needs a `source` (the host path)",
                    );
                }
                if !has("target") {
                    sink.at_span(
                        anchor,
                        Some(*item),
                        format!("a `{ty_name}` mount needs a `target`"),
                    );
                }
                if let Some(size) = tree
                    .get_value(*item, "tmpfs")
                    .and_then(|t| tree.get_value(t, "size"))
                {
                    let ok = match tree.value(size) {
                        Some(ScalarValue::Int(n)) => n >= 0,
                        Some(ScalarValue::Str(s)) => {
                            is_byte_size(s) || crate::interpolation::needs_interpolation(s)
                        }
                        _ => false,
                    };
                    if !ok {
                        sink.at(
                            size,
                            "`tmpfs.size` must be a byte size such as `64m` or `1048576`",
                        );
                    }
                }
            }
        }
    }
}
