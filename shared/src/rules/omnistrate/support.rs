//! Helpers shared by the Omnistrate rules: walking the `x-omnistrate-*`
//! objects of the schema tables, presence checks, spans and fixes.

use crate::diagnostic::Fix;
use crate::model::inner_keys as inner;
use crate::model::keys::{self, ObjectSchema};
use crate::model::Service;
use crate::rules::Context;
use crate::span::Span;
use crate::syntax::{Entry, NodeId, ScalarStyle, Seg, Shape, Tree};

/// One mapping of the spec that a schema table describes.
pub(super) struct Object {
    pub schema: &'static ObjectSchema,
    pub node: NodeId,
    /// Unknown fields are at most a warning (`inner_keys::TENTATIVE`).
    pub tentative: bool,
}

/// Every `x-omnistrate-*` object the schema tables below the service level
/// describe: API-param items and their `limits`, `x-omnistrate-compute` and
/// its `instanceTypes[]` items, `x-omnistrate-capabilities` with its
/// `autoscaling` and `serverlessConfiguration`, `x-omnistrate-storage` (on a
/// service or a long-syntax volume) and its per-cloud entries,
/// `x-omnistrate-job-config`, action hooks; at the top level the load
/// balancer, `x-omnistrate-service-plan` with its `deployment` kinds and their
/// accounts, and each registry of `x-omnistrate-image-registry-attributes`
/// with its `auth`. Inside them (`inner_keys`): the capabilities' sidecars,
/// custom DNS, backups, reverse proxy, warm pool and scaling metric, the
/// job's schedule, the plan's prices, metering and billing providers, and
/// the two integration keys.
pub(super) fn objects(ctx: &Context) -> Vec<Object> {
    let tree = ctx.tree;
    let mut out = Vec::new();
    let mut push = |schema: &'static ObjectSchema, node: Option<NodeId>| {
        if let Some(node) = node.filter(|n| tree.shape(*n) == Shape::Mapping) {
            let tentative = inner::is_tentative(schema);
            out.push(Object {
                schema,
                node,
                tentative,
            });
            Some(node)
        } else {
            None
        }
    };
    let items = |list: Option<NodeId>| list.map_or(&[][..], |l| tree.items(l));
    for service in &ctx.spec.services {
        if let Some(params) = service.api_params_node {
            for item in tree.items(params) {
                if push(&keys::API_PARAM, Some(*item)).is_some() {
                    push(&keys::LIMITS, tree.get_value(*item, "limits"));
                }
            }
        }
        if let Some(compute) = push(
            &keys::COMPUTE,
            tree.get_value(service.node, "x-omnistrate-compute"),
        ) {
            if let Some(list) = tree.get_value(compute, "instanceTypes") {
                for item in tree.items(list) {
                    push(&keys::INSTANCE_TYPE, Some(*item));
                }
            }
        }
        if let Some(caps) = push(
            &keys::CAPABILITIES,
            tree.get_value(service.node, "x-omnistrate-capabilities"),
        ) {
            push(&keys::AUTOSCALING, tree.get_value(caps, "autoscaling"));
            push(
                &keys::SERVERLESS,
                tree.get_value(caps, "serverlessConfiguration"),
            );
            if let Some(autoscaling) = tree.get_value(caps, "autoscaling") {
                if tree.shape(autoscaling) == Shape::Mapping {
                    push(
                        &inner::SCALING_METRIC,
                        tree.get_value(autoscaling, "scalingMetric"),
                    );
                }
            }
            for (key, schema) in [
                ("httpReverseProxy", &inner::HTTP_REVERSE_PROXY),
                ("backupConfiguration", &inner::BACKUP),
                ("nodeWarmPool", &inner::NODE_WARM_POOL),
            ] {
                push(schema, tree.get_value(caps, key));
            }
            if let Some(dns) = push(&inner::CUSTOM_DNS, tree.get_value(caps, "customDNS")) {
                for key in ["targetKubernetesService", "TargetKubernetesService"] {
                    push(&inner::KUBERNETES_SERVICE, tree.get_value(dns, key));
                }
            }
            if let Some(sidecars) = tree
                .get_value(caps, "sidecars")
                .filter(|n| tree.shape(*n) == Shape::Mapping)
            {
                for entry in tree.entries(sidecars) {
                    if let Some(sidecar) = push(&inner::SIDECAR, Some(entry.value)) {
                        push(
                            &inner::SIDECAR_RESOURCES,
                            tree.get_value(sidecar, "resourceLimits"),
                        );
                        push(
                            &inner::SECURITY_CONTEXT,
                            tree.get_value(sidecar, "securityContext"),
                        );
                    }
                }
            }
        }
        // Storage on the service or on a long-syntax volume.
        let volumes = tree
            .get_value(service.node, "volumes")
            .map_or(&[][..], |l| tree.items(l));
        let storages = std::iter::once(service.node)
            .chain(volumes.iter().copied())
            .filter(|n| tree.shape(*n) == Shape::Mapping)
            .filter_map(|n| tree.get_value(n, "x-omnistrate-storage"));
        for storage in storages.collect::<Vec<_>>() {
            if push(&keys::STORAGE, Some(storage)).is_some() {
                for cloud in keys::STORAGE.fields {
                    push(&keys::CLOUD_STORAGE, tree.get_value(storage, cloud.key));
                }
            }
        }
        if let Some(job) = push(
            &keys::JOB_CONFIG,
            tree.get_value(service.node, "x-omnistrate-job-config"),
        ) {
            push(&inner::SCHEDULE, tree.get_value(job, "scheduleConfig"));
        }
        for key in ["x-omnistrate-actionhooks", "x-omnistrate-action-hooks"] {
            if let Some(hooks) = tree.get_value(service.node, key) {
                for item in tree.items(hooks) {
                    push(&keys::ACTION_HOOK, Some(*item));
                }
            }
        }
    }
    let root_value = |key: &str| ctx.spec.root.and_then(|r| tree.get_value(r, key));
    if let Some(plan) = push(&keys::SERVICE_PLAN, root_value("x-omnistrate-service-plan")) {
        if let Some(deployment) = push(&keys::DEPLOYMENT, tree.get_value(plan, "deployment")) {
            for kind in keys::DEPLOYMENT.fields {
                push(
                    &keys::DEPLOYMENT_ACCOUNT,
                    tree.get_value(deployment, kind.key),
                );
            }
        }
        push(&inner::METERING, tree.get_value(plan, "metering"));
        for item in items(tree.get_value(plan, "pricing")) {
            push(&inner::PRICE, Some(*item));
        }
        for item in items(tree.get_value(plan, "billingProviders")) {
            push(&inner::BILLING_PROVIDER, Some(*item));
        }
    }
    if let Some(integrations) = push(
        &inner::CUSTOMER_INTEGRATIONS,
        root_value("x-customer-integrations"),
    ) {
        for key in ["logs", "metrics"] {
            push(
                &inner::CUSTOMER_INTEGRATION,
                tree.get_value(integrations, key),
            );
        }
        push(&inner::LICENSING, tree.get_value(integrations, "licensing"));
    }
    if let Some(integrations) = push(
        &inner::INTERNAL_INTEGRATIONS,
        root_value("x-internal-integrations"),
    ) {
        for key in ["logs", "metrics"] {
            push(
                &inner::INTERNAL_INTEGRATION,
                tree.get_value(integrations, key),
            );
        }
        push(
            &inner::MULTI_TENANT_GPU,
            tree.get_value(integrations, "multiTenantGpu"),
        );
    }
    if let Some(registries) = root_value("x-omnistrate-image-registry-attributes")
        .filter(|n| tree.shape(*n) == Shape::Mapping)
    {
        for entry in tree.entries(registries) {
            if let Some(registry) = push(&keys::IMAGE_REGISTRY, Some(entry.value)) {
                push(&keys::REGISTRY_AUTH, tree.get_value(registry, "auth"));
            }
        }
    }
    let lb = ctx
        .spec
        .root
        .and_then(|r| tree.get_value(r, "x-omnistrate-load-balancer"));
    if let Some(lb) = push(&keys::LOAD_BALANCER, lb) {
        for (kind, schema, routes, route) in [
            (
                "https",
                &keys::HTTPS_LOAD_BALANCER,
                "paths",
                &keys::HTTPS_ROUTE,
            ),
            ("tcp", &keys::TCP_LOAD_BALANCER, "ports", &keys::TCP_ROUTE),
        ] {
            for balancer in tree.get_value(lb, kind).map_or(&[][..], |l| tree.items(l)) {
                if push(schema, Some(*balancer)).is_some() {
                    for item in tree
                        .get_value(*balancer, routes)
                        .map_or(&[][..], |l| tree.items(l))
                    {
                        push(route, Some(*item));
                    }
                }
            }
        }
    }
    out
}

/// How messages name an object: `` `limits` `` or "an API parameter".
pub(super) fn object_label(schema: &ObjectSchema) -> String {
    if schema.name.contains(' ') {
        // `an HTTPS route`, `a cloud storage`.
        let article = if schema.name.starts_with(['a', 'e', 'i', 'o', 'u', 'A', 'H']) {
            "an"
        } else {
            "a"
        };
        format!("{article} {}", schema.name)
    } else {
        format!("`{}`", schema.name)
    }
}

/// The entry under `key`, unless its value is null (`key:` with nothing).
pub(super) fn present(tree: &Tree, map: NodeId, key: &str) -> Option<Entry> {
    tree.get(map, key)
        .filter(|e| tree.shape(e.value) != Shape::Null)
}

/// The key node of the entry a value node sits under.
pub(super) fn key_of(tree: &Tree, value: NodeId) -> Option<NodeId> {
    match tree.node(value).seg {
        Seg::Key(key) => Some(key),
        _ => None,
    }
}

/// Where to report "this object lacks a field": the object's key
/// (`autoscaling:`), else its first own key, else the object itself.
pub(super) fn object_anchor(tree: &Tree, node: NodeId) -> NodeId {
    key_of(tree, node)
        .or_else(|| first_key(tree, node))
        .unwrap_or(node)
}

/// The first key of a mapping as written.
pub(super) fn first_key(tree: &Tree, map: NodeId) -> Option<NodeId> {
    tree.own_entries(map).first().map(|e| e.key)
}

/// Of two entries of one mapping, the one written later and the earlier one.
pub(super) fn later_and_earlier(tree: &Tree, a: Entry, b: Entry) -> (Entry, Entry) {
    if tree.span(a.key).start >= tree.span(b.key).start {
        (a, b)
    } else {
        (b, a)
    }
}

/// Replace a key's text (inside its quotes, if any).
pub(super) fn rename_key(tree: &Tree, key: NodeId, title: String, to: &str) -> Fix {
    Fix::replace(title, tree.value_span(key), to)
}

/// Replace a scalar's text (inside its quotes, if any).
pub(super) fn replace_text(tree: &Tree, node: NodeId, title: String, to: &str) -> Fix {
    Fix::replace(title, tree.value_span(node), to)
}

/// Replace a whole scalar, quotes included, with a plain scalar. `None` when
/// the node is an alias (the anchor may be shared).
pub(super) fn replace_plain(tree: &Tree, node: NodeId, title: String, to: &str) -> Option<Fix> {
    (tree.resolve(node) == node).then(|| Fix::replace(title, tree.span(node), to))
}

/// Whether a scalar was written in quotes (or as a block scalar / with a tag).
pub(super) fn is_quoted(tree: &Tree, node: NodeId) -> bool {
    tree.scalar(node)
        .is_some_and(|s| s.style != ScalarStyle::Plain || s.tagged)
}

/// The span of a value (inside quotes), or of a collection.
pub(super) fn span_of(tree: &Tree, node: NodeId) -> Span {
    tree.value_span(node)
}

/// A number as people write it: `3`, not `3.0`.
pub(super) fn fmt_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

/// Cut long values for messages.
pub(super) fn shorten(value: &str) -> String {
    if value.chars().count() > 40 {
        format!("{}…", value.chars().take(40).collect::<String>())
    } else {
        value.to_owned()
    }
}

/// The names of every service.
pub(super) fn service_names<'a>(ctx: &Context<'a>) -> impl Iterator<Item = &'a str> {
    ctx.spec.services.iter().map(|s| s.name.value.as_str())
}

/// The API-param keys of one service.
pub(super) fn param_keys(service: &Service) -> impl Iterator<Item = &str> {
    service.api_params.iter().filter_map(|p| p.key_str())
}
