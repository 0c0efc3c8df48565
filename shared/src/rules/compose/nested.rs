//! The compose objects below services and beside them, found with the table
//! each should follow (`model::compose_keys`). Shared by C023 (unknown keys)
//! and C011 (shapes) so both walk the same objects.

use crate::model::compose_keys as ck;
use crate::model::keys::ObjectSchema;
use crate::rules::Context;
use crate::syntax::{NodeId, Shape, Tree};

/// Every nested compose mapping with its schema, each node once (found on
/// the first call of an analysis, kept in the context).
pub(super) fn objects<'c>(ctx: &'c Context) -> &'c [(&'static ObjectSchema, NodeId)] {
    ctx.nested.get_or_init(|| find(ctx))
}

fn find(ctx: &Context) -> Vec<(&'static ObjectSchema, NodeId)> {
    let tree = ctx.tree;
    let mut out = Vec::new();
    let Some(root) = ctx.spec.root else {
        return out;
    };
    let mut push = |schema: &'static ObjectSchema, node: Option<NodeId>| {
        if let Some(node) = node.filter(|n| tree.shape(*n) == Shape::Mapping) {
            out.push((schema, tree.resolve(node)));
        }
    };
    for service in &ctx.spec.services {
        let s = service.node;
        if tree.shape(s) != Shape::Mapping {
            continue;
        }
        let get = |map: Option<NodeId>, key: &str| map.and_then(|m| mapping_value(tree, m, key));
        push(&ck::BUILD, get(Some(s), "build"));
        let deploy = get(Some(s), "deploy");
        push(&ck::DEPLOY, deploy);
        push(&ck::UPDATE_CONFIG, get(deploy, "update_config"));
        push(&ck::UPDATE_CONFIG, get(deploy, "rollback_config"));
        push(&ck::RESTART_POLICY, get(deploy, "restart_policy"));
        push(&ck::PLACEMENT, get(deploy, "placement"));
        let resources = get(deploy, "resources");
        push(&ck::RESOURCES, resources);
        push(&ck::RESOURCE_LIMITS, get(resources, "limits"));
        let reservations = get(resources, "reservations");
        push(&ck::RESOURCE_RESERVATIONS, reservations);
        for item in items(tree, get(reservations, "devices")) {
            push(&ck::DEVICE_REQUEST, Some(item));
        }
        for item in items(tree, get(Some(s), "gpus")) {
            push(&ck::DEVICE_REQUEST, Some(item));
        }
        push(&ck::HEALTHCHECK, get(Some(s), "healthcheck"));
        push(&ck::LOGGING, get(Some(s), "logging"));
        let develop = get(Some(s), "develop");
        push(&ck::DEVELOP, develop);
        for item in items(tree, get(develop, "watch")) {
            push(&ck::WATCH, Some(item));
        }
        for item in items(tree, get(Some(s), "volumes")) {
            push(&ck::SERVICE_VOLUME, Some(item));
        }
        for item in items(tree, get(Some(s), "ports")) {
            push(&ck::SERVICE_PORT, Some(item));
        }
        for key in ["secrets", "configs"] {
            for item in items(tree, get(Some(s), key)) {
                push(&ck::SERVICE_FILE, Some(item));
            }
        }
        for value in values(tree, get(Some(s), "depends_on")) {
            push(&ck::DEPENDS_ON, Some(value));
        }
        push(&ck::EXTENDS, get(Some(s), "extends"));
        for value in values(tree, get(Some(s), "networks")) {
            push(&ck::SERVICE_NETWORK, Some(value));
        }
    }
    for (key, schema) in [
        ("networks", &ck::NETWORK),
        ("volumes", &ck::VOLUME),
        ("secrets", &ck::SECRET),
        ("configs", &ck::CONFIG),
        ("models", &ck::MODEL),
    ] {
        for value in values(tree, mapping_value(tree, root, key)) {
            push(schema, Some(value));
        }
    }
    for item in items(tree, mapping_value(tree, root, "include")) {
        push(&ck::INCLUDE, Some(item));
    }
    let mut seen = std::collections::HashSet::new();
    out.retain(|(_, node)| seen.insert(*node));
    out
}

fn mapping_value(tree: &Tree, map: NodeId, key: &str) -> Option<NodeId> {
    (tree.shape(map) == Shape::Mapping)
        .then(|| tree.get_value(map, key))
        .flatten()
}

fn items(tree: &Tree, node: Option<NodeId>) -> Vec<NodeId> {
    node.filter(|n| tree.shape(*n) == Shape::Sequence)
        .map(|n| tree.items(n).to_vec())
        .unwrap_or_default()
}

/// Values of a mapping's entries, skipping `x-` keys.
fn values(tree: &Tree, node: Option<NodeId>) -> Vec<NodeId> {
    node.filter(|n| tree.shape(*n) == Shape::Mapping)
        .map(|n| {
            tree.entries(n)
                .into_iter()
                .filter(|e| !tree.str(e.key).is_some_and(|k| k.starts_with("x-")))
                .map(|e| e.value)
                .collect()
        })
        .unwrap_or_default()
}
