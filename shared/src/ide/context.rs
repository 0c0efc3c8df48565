//! Where a position sits: the mapping path above it, the schema of that
//! mapping and the tree node under it. Works on half-typed text too: the
//! path comes from the indentation of the lines above, not from the parse.

use crate::model::inner_keys as inner;
use crate::model::keys::{self, ObjectSchema};
use crate::syntax::{NodeId, NodeKind, Seg, Tree};

/// One segment of a path from the root to a mapping.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PathSeg {
    Key(String),
    Index,
}

pub(crate) fn is_key(seg: Option<&PathSeg>, name: &str) -> bool {
    matches!(seg, Some(PathSeg::Key(k)) if k == name)
}

/// The schema of the mapping at `path` (the path of the mapping itself).
///
/// ```
/// use shared::ide::{schema_at, PathSeg};
/// let path = [PathSeg::Key("services".into()), PathSeg::Key("Web".into())];
/// assert_eq!(schema_at(&path).unwrap().name, shared::model::keys::SERVICE.name);
/// ```
pub fn schema_at(path: &[PathSeg]) -> Option<&'static ObjectSchema> {
    use PathSeg::*;
    let n = path.len();
    if n == 0 {
        return Some(&keys::ROOT);
    }
    let at = |i: usize, name: &str| is_key(path.get(i), name);
    if at(0, "x-omnistrate-service-plan") {
        return match n {
            1 => Some(&keys::SERVICE_PLAN),
            2 if at(1, "deployment") => Some(&keys::DEPLOYMENT),
            3 if at(1, "deployment") => Some(&keys::DEPLOYMENT_ACCOUNT),
            2 if at(1, "metering") => Some(&inner::METERING),
            3 if at(1, "pricing") && path[2] == Index => Some(&inner::PRICE),
            3 if at(1, "billingProviders") && path[2] == Index => Some(&inner::BILLING_PROVIDER),
            _ => None,
        };
    }
    for (key, top, item) in [
        (
            "x-customer-integrations",
            &inner::CUSTOMER_INTEGRATIONS,
            &inner::CUSTOMER_INTEGRATION,
        ),
        (
            "x-internal-integrations",
            &inner::INTERNAL_INTEGRATIONS,
            &inner::INTERNAL_INTEGRATION,
        ),
    ] {
        if at(0, key) {
            return match n {
                1 => Some(top),
                2 if at(1, "logs") || at(1, "metrics") => Some(item),
                2 if at(1, "licensing") => Some(&inner::LICENSING),
                2 if at(1, "multiTenantGpu") => Some(&inner::MULTI_TENANT_GPU),
                _ => None,
            };
        }
    }
    if at(0, "x-omnistrate-image-registry-attributes") {
        return match n {
            2 => Some(&keys::IMAGE_REGISTRY),
            3 if at(2, "auth") => Some(&keys::REGISTRY_AUTH),
            _ => None,
        };
    }
    if !at(0, "services") {
        return None;
    }
    // `x-omnistrate-storage` on the service or on a long-syntax volume.
    let storage_at = if at(2, "volumes") && path.get(3) == Some(&Index) {
        5
    } else {
        3
    };
    if at(storage_at - 1, "x-omnistrate-storage") {
        return match n - storage_at {
            0 => Some(&keys::STORAGE),
            1 => Some(&keys::CLOUD_STORAGE),
            _ => None,
        };
    }
    match n {
        2 => Some(&keys::SERVICE),
        3 if at(2, "x-omnistrate-job-config") => Some(&keys::JOB_CONFIG),
        3 if at(2, "x-omnistrate-compute") => Some(&keys::COMPUTE),
        3 if at(2, "x-omnistrate-capabilities") => Some(&keys::CAPABILITIES),
        4 if at(2, "x-omnistrate-api-params") && path[3] == Index => Some(&keys::API_PARAM),
        4 if at(2, "x-omnistrate-capabilities") && at(3, "autoscaling") => Some(&keys::AUTOSCALING),
        4 if at(2, "x-omnistrate-capabilities") && at(3, "serverlessConfiguration") => {
            Some(&keys::SERVERLESS)
        }
        5 if at(2, "x-omnistrate-compute") && at(3, "instanceTypes") && path[4] == Index => {
            Some(&keys::INSTANCE_TYPE)
        }
        5 if at(2, "x-omnistrate-api-params") && at(4, "limits") => Some(&keys::LIMITS),
        4 if at(2, "x-omnistrate-job-config") && at(3, "scheduleConfig") => Some(&inner::SCHEDULE),
        4.. if at(2, "x-omnistrate-capabilities") => capability_schema(&path[3..]),
        _ => None,
    }
}

/// The schema of a mapping inside `x-omnistrate-capabilities` (`rest` is the
/// path below it).
fn capability_schema(rest: &[PathSeg]) -> Option<&'static ObjectSchema> {
    let at = |i: usize, name: &str| is_key(rest.get(i), name);
    match rest.len() {
        1 if at(0, "httpReverseProxy") => Some(&inner::HTTP_REVERSE_PROXY),
        1 if at(0, "customDNS") => Some(&inner::CUSTOM_DNS),
        1 if at(0, "backupConfiguration") => Some(&inner::BACKUP),
        1 if at(0, "nodeWarmPool") => Some(&inner::NODE_WARM_POOL),
        2 if at(0, "autoscaling") && at(1, "scalingMetric") => Some(&inner::SCALING_METRIC),
        2 if at(0, "customDNS") => Some(&inner::KUBERNETES_SERVICE),
        2 if at(0, "sidecars") => Some(&inner::SIDECAR),
        3 if at(0, "sidecars") && at(2, "resourceLimits") => Some(&inner::SIDECAR_RESOURCES),
        3 if at(0, "sidecars") && at(2, "securityContext") => Some(&inner::SECURITY_CONTEXT),
        _ => None,
    }
}

/// Path from the root to `node` (including the node's own key).
pub(crate) fn tree_path(tree: &Tree, node: NodeId) -> Vec<PathSeg> {
    let mut out = Vec::new();
    let mut current = Some(node);
    while let Some(id) = current {
        let n = tree.node(id);
        match n.seg {
            Seg::Root => {}
            Seg::Key(key) | Seg::KeyOf(key) => {
                out.push(PathSeg::Key(tree.str(key).unwrap_or_default().to_owned()))
            }
            Seg::Index(_) => out.push(PathSeg::Index),
        }
        current = n.parent;
    }
    out.reverse();
    out
}

/// The innermost node whose span holds `offset` (keys included).
pub(crate) fn node_at(tree: &Tree, offset: usize) -> Option<NodeId> {
    let mut best: Option<(NodeId, usize)> = None;
    for (i, node) in tree.nodes.iter().enumerate() {
        let span = match &node.kind {
            NodeKind::Scalar(s) => s.exact.unwrap_or(node.span),
            _ => node.span,
        };
        if span.start <= offset && offset <= span.end && !matches!(node.kind, NodeKind::Invalid) {
            let len = span.len();
            if best.is_none_or(|(_, l)| len < l) {
                best = Some((i as NodeId, len));
            }
        }
    }
    best.map(|(id, _)| id)
}

/// One source line as the completer sees it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct LineShape<'a> {
    /// Column of `- ` when the line starts a list item.
    pub dash: Option<usize>,
    /// Column where the key (or plain content) starts.
    pub content: usize,
    /// The key, when the line holds `key:`.
    pub key: Option<&'a str>,
}

pub(crate) fn shape_of(line: &str) -> Option<LineShape<'_>> {
    let indent = line.len() - line.trim_start_matches(' ').len();
    let rest = &line[indent..];
    if rest.is_empty() || rest.starts_with('#') {
        return None;
    }
    let (dash, content, body) = if rest == "-" || rest.starts_with("- ") {
        let after = rest[1..].trim_start_matches(' ');
        (Some(indent), line.len() - after.len(), after)
    } else {
        (None, indent, rest)
    };
    let key = key_of_line(body);
    Some(LineShape { dash, content, key })
}

/// `key` of `key: value` / `key:` (plain or quoted keys).
fn key_of_line(body: &str) -> Option<&str> {
    let body = body.trim_end();
    let colon = body
        .find(": ")
        .or_else(|| body.strip_suffix(':').map(|b| b.len()))?;
    let key = body[..colon].trim().trim_matches(['\'', '"']);
    (!key.is_empty() && !key.contains(' ') || key.starts_with("x-")).then_some(key)
}

/// The mapping path of the line `line_no` (0-based), from the lines above.
pub(crate) fn context_path(
    lines: &[&str],
    line_no: usize,
    cursor_content: usize,
    cursor_dash: Option<usize>,
) -> Vec<PathSeg> {
    let mut path = Vec::new();
    let mut need = cursor_content;
    if let Some(d) = cursor_dash {
        path.push(PathSeg::Index);
        need = d + 1;
    }
    for l in (0..line_no.min(lines.len())).rev() {
        let Some(shape) = shape_of(lines[l]) else {
            continue;
        };
        if need == 0 {
            break;
        }
        match shape.dash {
            Some(d) if d < need => {
                if shape.content < need {
                    if let Some(k) = shape.key {
                        path.push(PathSeg::Key(k.to_owned()));
                    }
                }
                // Either the item's first key is the parent, or a sibling of the cursor in the item.
                if shape.content <= need {
                    path.push(PathSeg::Index);
                    need = d + 1;
                }
            }
            None if shape.content < need => {
                if let Some(k) = shape.key {
                    path.push(PathSeg::Key(k.to_owned()));
                }
                need = shape.content;
            }
            _ => {}
        }
    }
    path.reverse();
    path
}

/// Keys already written at the same indent around a line (not offered again).
pub(crate) fn sibling_keys<'a>(lines: &[&'a str], line0: usize, content: usize) -> Vec<&'a str> {
    let mut out = Vec::new();
    for dir in [-1i64, 1] {
        let mut l = line0 as i64 + dir;
        while l >= 0 && (l as usize) < lines.len() {
            if let Some(shape) = shape_of(lines[l as usize]) {
                if shape.content < content
                    || (shape.dash.is_some() && shape.content == content && dir > 0)
                {
                    if shape.content == content {
                        if let Some(k) = shape.key {
                            out.push(k);
                        }
                    }
                    break;
                }
                if shape.content == content {
                    if let Some(k) = shape.key {
                        out.push(k);
                    }
                    if shape.dash.is_some() {
                        break;
                    }
                }
            }
            l += dir;
        }
    }
    out
}
