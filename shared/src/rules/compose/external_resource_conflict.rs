use super::support;
use crate::declare_rule;
use crate::rules::{Context, Rule, Sink};
use crate::syntax::{ScalarValue, Shape};

declare_rule! {
    /// ## What
    /// A top-level network or volume marked `external` that also sets how to
    /// create it (`driver`, `driver_opts`, `ipam`, `internal`, `attachable`,
    /// `enable_ipv6`, `labels`), or whose `name` differs from the legacy
    /// `external.name` (also for secrets).
    ///
    /// ## Why
    /// An external resource already exists and is only looked up by name:
    /// compose refuses creation settings on it ("conflicting parameters
    /// \"external\" and \"driver\"") and two different names.
    ///
    /// ## Example
    /// ```yaml
    /// volumes:
    ///   data:
    ///     external: true
    ///     driver: local
    /// ```
    pub struct ExternalResourceConflict {
        code: "C018",
        name: "external-resource-conflict",
        severity: Error,
        layer: Compose,
        summary: "An external network or volume also sets creation options or a second name",
        help: "Remove the creation options (the resource exists already), or drop `external` to let compose create it.",
        fixable: false,
    }
}

const NETWORK_CREATION: &[&str] = &[
    "driver",
    "driver_opts",
    "ipam",
    "internal",
    "attachable",
    "enable_ipv4",
    "enable_ipv6",
    "labels",
];
const VOLUME_CREATION: &[&str] = &["driver", "driver_opts", "labels"];

impl Rule for ExternalResourceConflict {
    fn check(&self, ctx: &Context, sink: &mut Sink) {
        let tree = ctx.tree;
        let Some(root) = ctx.spec.root else { return };
        // Secrets: only the two names (compose-go's
        // TestLoadSecretInvalidExternalNameAndNameCombination).
        for (section, creation) in [
            ("networks", NETWORK_CREATION),
            ("volumes", VOLUME_CREATION),
            ("secrets", &[][..]),
        ] {
            let Some(defs) = tree.get_value(root, section) else {
                continue;
            };
            for def in tree.entries(defs) {
                if tree.shape(def.value) != Shape::Mapping {
                    continue;
                }
                let Some(external) = tree.get(def.value, "external") else {
                    continue;
                };
                let legacy_name = match tree.shape(external.value) {
                    Shape::Mapping => tree.get_value(external.value, "name"),
                    _ => None,
                };
                let is_external = legacy_name.is_some()
                    || tree.shape(external.value) == Shape::Mapping
                    || matches!(tree.value(external.value), Some(ScalarValue::Bool(true)));
                if !is_external {
                    continue;
                }
                let what = &section[..section.len() - 1];
                let name = tree.str(def.key).unwrap_or_default();
                for entry in tree.entries(def.value) {
                    let Some(key) = tree.str(entry.key) else {
                        continue;
                    };
                    if creation.contains(&key) {
                        sink.at_span(
                            support::token_span(tree, entry.key),
                            Some(entry.key),
                            format!("external {what} `{name}` cannot set `{key}`"),
                        )
                        .related(tree.span(external.key), "marked external here");
                    }
                }
                if let (Some(legacy), Some(own)) = (legacy_name, tree.get_value(def.value, "name"))
                {
                    if tree.str(legacy) != tree.str(own) {
                        sink.at_span(
                            tree.value_span(own),
                            Some(own),
                            format!("{what} `{name}`: `name` and `external.name` differ",),
                        )
                        .related(tree.value_span(legacy), "`external.name` set here")
                        .help("Keep only `name` (`external.name` is the legacy spelling).");
                    }
                }
            }
        }
    }
}
