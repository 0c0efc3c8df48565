use crate::declare_rule;
use crate::model::keys::{self, did_you_mean, edit_distance, ObjectSchema};
use crate::rules::{Context, Rule, Sink};
use crate::syntax::{NodeId, Tree};

use super::support::rename_key;

declare_rule! {
    /// ## What
    /// An `x-omnistrate-*` key, at the top level or in a service, that the
    /// platform does not know, or that belongs to the other level
    /// (`x-omnistrate-api-params` at the top level). An `x-` key one or two
    /// typos away from a known extension (`x-omnistate-compute`) is reported
    /// too; other `x-` keys are left alone.
    ///
    /// ## Why
    /// Other `x-*` keys are plain anchor holders, so a misspelt extension is
    /// silently ignored: the API params, compute or capabilities it was meant
    /// to declare simply do not exist. A near miss of a known extension is an
    /// error with a fix; any other unknown `x-omnistrate-*` key is a warning
    /// (it may be newer than our tables).
    ///
    /// ## Example
    /// ```yaml
    /// services:
    ///   Master:
    ///     x-omnistrate-api-param:   # x-omnistrate-api-params
    ///       - key: instanceType
    /// ```
    pub struct UnknownOmnistrateExtension {
        code: "O001",
        name: "unknown-omnistrate-extension",
        severity: Error,
        layer: Omnistrate,
        summary: "Unknown `x-omnistrate-*` extension key",
        help: "Check the spelling against the Omnistrate compose reference; unknown extensions are ignored.",
        fixable: true,
    }
}

const PREFIX: &str = "x-omnistrate-";

/// Known extensions at one level (the deprecated `x-omnistrate-action-hooks`
/// spelling is a service-level key that the CLI still accepts).
fn level_keys(schema: &'static ObjectSchema) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = schema
        .fields
        .iter()
        .map(|f| f.key)
        .filter(|k| k.starts_with(PREFIX))
        .collect();
    if schema.name == keys::SERVICE.name {
        out.push("x-omnistrate-action-hooks");
    }
    out
}

fn check_level(
    tree: &Tree,
    map: NodeId,
    here: &'static ObjectSchema,
    other: &'static ObjectSchema,
    sink: &mut Sink,
) {
    let known_here = level_keys(here);
    let known_there = level_keys(other);
    for entry in tree.entries(map) {
        let Some(key) = tree.str(entry.key) else {
            continue;
        };
        let Some(suffix) = key.strip_prefix(PREFIX) else {
            misspelt_prefix(tree, map, entry.key, key, &known_here, sink);
            continue;
        };
        if known_here.contains(&key) {
            continue;
        }
        if known_there.contains(&key) {
            let (message, help) = if here.name == keys::ROOT.name {
                (
                    format!("`{key}` belongs in a service, not at the top level"),
                    "Move it under the service it configures; at the top level it is ignored.",
                )
            } else {
                (
                    format!("`{key}` belongs at the top level, not in a service"),
                    "Move it to the top level of the file; inside a service it is ignored.",
                )
            };
            sink.at(entry.key, message).help(help);
            continue;
        }
        if keys::omnistrate_keys().any(|k| k == key) {
            continue;
        }
        let suffixes = known_here
            .iter()
            .filter_map(|k| k.strip_prefix(PREFIX))
            .collect::<Vec<_>>();
        let suggestion = did_you_mean(suffix, suffixes.iter().copied())
            .map(|s| format!("{PREFIX}{s}"))
            .filter(|s| tree.get(map, s).is_none());
        let diagnostic = sink.at(entry.key, format!("unknown Omnistrate extension `{key}`"));
        match suggestion {
            Some(suggestion) => {
                diagnostic.fix(rename_key(
                    tree,
                    entry.key,
                    format!("Did you mean `{suggestion}`?"),
                    &suggestion,
                ));
            }
            // Not a near miss: maybe an extension newer than our tables.
            None => {
                diagnostic.severity(crate::diagnostic::Severity::Warning);
            }
        }
    }
}

/// `x-omnistate-compute`: an `x-` key a typo away from a known extension
/// (other `x-` keys are anchor holders and stay alone).
fn misspelt_prefix(
    tree: &Tree,
    map: NodeId,
    key_node: NodeId,
    key: &str,
    known_here: &[&'static str],
    sink: &mut Sink,
) {
    if !key.starts_with("x-") {
        return;
    }
    let Some((distance, known)) = known_here
        .iter()
        .map(|k| (edit_distance(key, k), *k))
        .min_by_key(|(d, _)| *d)
    else {
        return;
    };
    if distance == 0 || distance > 2 || tree.get(map, known).is_some() {
        return;
    }
    sink.at(key_node, format!("unknown Omnistrate extension `{key}`"))
        .help(format!(
            "`{key}` is not an Omnistrate key, so it is ignored as a plain `x-` extension."
        ))
        .fix(rename_key(
            tree,
            key_node,
            format!("Did you mean `{known}`?"),
            known,
        ));
}

impl Rule for UnknownOmnistrateExtension {
    fn check(&self, ctx: &Context, sink: &mut Sink) {
        let Some(root) = ctx.spec.root else { return };
        check_level(ctx.tree, root, &keys::ROOT, &keys::SERVICE, sink);
        for service in &ctx.spec.services {
            check_level(ctx.tree, service.node, &keys::SERVICE, &keys::ROOT, sink);
        }
    }
}
