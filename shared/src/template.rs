//! Template references inside string values: `$var.X`, `$sys.<path>`,
//! `$<resource>.var.X`, `$<resource>.sys.<path>`, bare or inside `{{ … }}`.
//!
//! The scanner works on a value's text and reports offsets relative to it; the
//! model turns those into source spans. Resolution against concrete values
//! (for provisioning) lives here too, so the page and the server agree.

use serde::Serialize;

/// Whose parameter a reference reads.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "scope", content = "resource", rename_all = "lowercase")]
pub enum RefScope {
    /// `$var.…` / `$sys.…`: the resource that holds the value.
    This,
    /// `$<resourceKey>.…`: another resource, by its resource key (`master`).
    Resource(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RefKind {
    Var,
    Sys,
}

/// One reference found in a value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TemplateRef {
    pub scope: RefScope,
    pub kind: RefKind,
    /// Param key for `var`, dotted path for `sys` (`network.x.openPorts[0]`).
    pub path: String,
    /// Byte range of the reference (from `$` to the end of its path) in the value.
    pub start: usize,
    pub end: usize,
    /// Byte range of the resource key inside the value, for `$<resource>.…`.
    pub resource_range: Option<(usize, usize)>,
    /// Whether it sits inside `{{ … }}`.
    pub braced: bool,
}

/// What scanning one value found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Scan {
    pub refs: Vec<TemplateRef>,
    /// Bare references that share the value with other text (need `{{ }}`).
    pub concatenated: Vec<usize>,
    /// `{{` without a closing `}}`: byte offset of the opener.
    pub unclosed_braces: Vec<usize>,
}

impl Scan {
    pub fn is_empty(&self) -> bool {
        self.refs.is_empty() && self.unclosed_braces.is_empty()
    }
}

/// Resource key of a service: its name with the first letter lower-cased.
pub fn resource_key(service: &str) -> String {
    let mut chars = service.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Scan a value for references.
pub fn scan(value: &str) -> Scan {
    let mut scan = Scan::default();
    if !value.contains('$') && !value.contains("{{") {
        return scan;
    }
    let bytes = value.as_bytes();
    let mut i = 0;
    let mut bare: Vec<usize> = Vec::new();
    let mut has_other_text = false;
    while i < bytes.len() {
        if bytes[i] == b'{' && bytes.get(i + 1) == Some(&b'{') {
            let Some(close) = value[i + 2..].find("}}").map(|c| i + 2 + c) else {
                scan.unclosed_braces.push(i);
                has_other_text = true;
                i += 2;
                continue;
            };
            let mut j = i + 2;
            while j < close {
                if bytes[j] == b'$' {
                    if let Some(r) = parse_ref(value, j, close, true) {
                        j = r.end;
                        scan.refs.push(r);
                        continue;
                    }
                }
                j += 1;
            }
            has_other_text = true;
            i = close + 2;
            continue;
        }
        if bytes[i] == b'$' {
            if bytes.get(i + 1) == Some(&b'$') {
                // `$$` is compose's escaped dollar.
                has_other_text = true;
                i += 2;
                continue;
            }
            if let Some(r) = parse_ref(value, i, value.len(), false) {
                i = r.end;
                bare.push(scan.refs.len());
                scan.refs.push(r);
                continue;
            }
        }
        if !bytes[i].is_ascii_whitespace() {
            has_other_text = true;
        }
        i += 1;
    }
    if bare.len() > 1 || (!bare.is_empty() && has_other_text) {
        scan.concatenated = bare;
    }
    scan
}

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

fn is_ident_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Read an identifier at `at`; hyphens allowed when `hyphen` (resource keys).
fn ident(value: &str, at: usize, limit: usize, hyphen: bool) -> Option<usize> {
    let bytes = value.as_bytes();
    if at >= limit || !is_ident_start(bytes[at]) {
        return None;
    }
    let mut end = at + 1;
    while end < limit && (is_ident_char(bytes[end]) || (hyphen && bytes[end] == b'-')) {
        end += 1;
    }
    Some(end)
}

/// Parse a reference starting at the `$` at `at`.
fn parse_ref(value: &str, at: usize, limit: usize, braced: bool) -> Option<TemplateRef> {
    let bytes = value.as_bytes();
    let first_end = ident(value, at + 1, limit, true)?;
    if bytes.get(first_end) != Some(&b'.') || first_end >= limit {
        return None;
    }
    let first = &value[at + 1..first_end];
    let (scope, kind, path_start, resource_range) = match first {
        "var" | "sys" => (RefScope::This, kind_of(first), first_end + 1, None),
        resource => {
            let second_end = ident(value, first_end + 1, limit, false)?;
            let second = &value[first_end + 1..second_end];
            if !matches!(second, "var" | "sys") || bytes.get(second_end) != Some(&b'.') {
                return None;
            }
            (
                RefScope::Resource(resource.to_owned()),
                kind_of(second),
                second_end + 1,
                Some((at + 1, first_end)),
            )
        }
    };
    let end = match kind {
        RefKind::Var => ident(value, path_start, limit, false)?,
        RefKind::Sys => sys_path_end(value, path_start, limit)?,
    };
    Some(TemplateRef {
        scope,
        kind,
        path: value[path_start..end].to_owned(),
        start: at,
        end,
        resource_range,
        braced,
    })
}

fn kind_of(word: &str) -> RefKind {
    if word == "var" {
        RefKind::Var
    } else {
        RefKind::Sys
    }
}

/// `ident([n])*(.ident([n])*)*`
fn sys_path_end(value: &str, start: usize, limit: usize) -> Option<usize> {
    let bytes = value.as_bytes();
    let mut end = ident(value, start, limit, false)?;
    loop {
        while end < limit && bytes[end] == b'[' {
            let digits = bytes[end + 1..limit]
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .count();
            if digits == 0 || bytes.get(end + 1 + digits) != Some(&b']') {
                return Some(end);
            }
            end += digits + 2;
        }
        if end < limit && bytes[end] == b'.' {
            match ident(value, end + 1, limit, false) {
                Some(next) => end = next,
                None => return Some(end),
            }
        } else {
            return Some(end);
        }
    }
}

/// A system parameter path with indices written `[i]`.
pub fn normalize_sys_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut in_index = false;
    for ch in path.chars() {
        match ch {
            '[' => {
                in_index = true;
                out.push_str("[i]");
            }
            ']' => in_index = false,
            _ if in_index => {}
            _ => out.push(ch),
        }
    }
    out
}

/// Known system parameter paths (reference §4), indices written `[i]`, with
/// their type and whether they only exist in compose specs.
pub const SYSTEM_PARAMETERS: &[(&str, &str)] = &[
    ("id", "string"),
    ("deterministicSeedValue", "int"),
    ("compute.numNodes", "int"),
    ("compute.node.poolName", "string"),
    ("compute.node.cores", "int"),
    ("compute.node.memory", "int"),
    ("compute.node.instanceType", "string"),
    ("compute.node.name", "string"),
    ("compute.node.index", "int"),
    ("compute.node.region", "string"),
    ("compute.nodes[i].poolName", "string"),
    ("compute.nodes[i].cores", "int"),
    ("compute.nodes[i].memory", "int"),
    ("compute.nodes[i].instanceType", "string"),
    ("compute.nodes[i].name", "string"),
    ("compute.nodes[i].index", "int"),
    ("compute.nodes[i].region", "string"),
    ("network.node.internalEndpoint", "string"),
    ("network.node.externalEndpoint", "string"),
    ("network.node.availabilityZone.code", "string"),
    ("network.node.availabilityZone.id", "string"),
    ("network.node.internalIP", "string"),
    ("network.node.hostIP", "string"),
    ("network.node.subnetID", "string"),
    ("network.node.networkID", "string"),
    ("network.node.cidrRange", "string"),
    ("network.nodes[i].internalEndpoint", "string"),
    ("network.nodes[i].externalEndpoint", "string"),
    ("network.nodes[i].availabilityZone.code", "string"),
    ("network.nodes[i].availabilityZone.id", "string"),
    ("network.nodes[i].internalIP", "string"),
    ("network.nodes[i].hostIP", "string"),
    ("network.nodes[i].subnetID", "string"),
    ("network.nodes[i].networkID", "string"),
    ("network.nodes[i].cidrRange", "string"),
    ("network.internalClusterEndpoint", "string"),
    ("network.externalClusterEndpoint", "string"),
    ("network.availabilityZones[i].code", "string"),
    ("network.availabilityZones[i].id", "string"),
    (
        "network.internalClusterServerlessEndpoint.endpointName",
        "string",
    ),
    (
        "network.internalClusterServerlessEndpoint.openPorts[i]",
        "int",
    ),
    (
        "network.internalClusterServerlessEndpoint.partitionID",
        "string",
    ),
    (
        "network.externalClusterServerlessEndpoint.endpointName",
        "string",
    ),
    (
        "network.externalClusterServerlessEndpoint.openPorts[i]",
        "int",
    ),
    (
        "network.externalClusterServerlessEndpoint.partitionID",
        "string",
    ),
    ("storage.numVolumes", "int"),
    ("storage.volumes[i].name", "string"),
    ("storage.volumes[i].size", "int"),
    ("storage.volumes[i].type", "string"),
    ("storage.volumes[i].mountPath", "string"),
    ("storage.volumes[i].id", "string"),
    ("storage.volumes[i].pvName", "string"),
    ("tenant.userID", "string"),
    ("tenant.name", "string"),
    ("tenant.email", "string"),
    ("tenant.orgId", "string"),
    ("tenant.orgName", "string"),
    ("deployment.planID", "string"),
    ("deployment.planName", "string"),
    ("deployment.planVersion", "string"),
    ("deployment.resourceAlias", "string"),
    ("deployment.resourceID", "string"),
    ("deployment.nodeAffinityRules", "string"),
    ("deployment.nodeSelectorRules", "string"),
    ("deployment.tlsServerCertificateSecretName", "string"),
    ("deployment.tlsCertMountPath", "string"),
    ("deployment.imageNameWithTag", "string"),
    ("deployment.imagePullSecretName", "string"),
    ("deployment.iamWorkloadRoleARN", "string"),
    ("deployment.kubernetesServiceAccountName", "string"),
    ("deployment.cloudProvider", "string"),
    ("deployment.cloudProviderAccountID", "string"),
    ("deployment.gcpProjectNumber", "string"),
    ("deployment.gcpBootstrapEmail", "string"),
    ("deployment.kubernetesClusterID", "string"),
    ("deploymentCell.cloudProviderName", "string"),
    ("deploymentCell.region", "string"),
    ("deploymentCell.cloudProviderNetworkID", "string"),
    ("deploymentCell.publicSubnetIDs[i].id", "string"),
    ("deploymentCell.availabilityZones[i].id", "string"),
    ("deploymentCell.securityGroupID", "string"),
];

/// The type of a known system parameter path (indices in any form).
pub fn system_parameter(path: &str) -> Option<&'static str> {
    let normalized = normalize_sys_path(path);
    SYSTEM_PARAMETERS
        .iter()
        .find(|(p, _)| *p == normalized)
        .map(|(_, ty)| *ty)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_cross_resource_refs() {
        let s = scan("$master.sys.network.externalClusterServerlessEndpoint.openPorts[0]");
        assert_eq!(s.refs.len(), 1);
        let r = &s.refs[0];
        assert_eq!(r.scope, RefScope::Resource("master".into()));
        assert_eq!(r.kind, RefKind::Sys);
        assert_eq!(
            r.path,
            "network.externalClusterServerlessEndpoint.openPorts[0]"
        );
        assert_eq!((r.start, r.end), (0, 66));
        assert!(s.concatenated.is_empty());
        assert_eq!(system_parameter(&r.path), Some("int"));
    }

    #[test]
    fn braces_allow_concatenation() {
        let s = scan("postgresql://{{ $var.u }}:{{ $var.p }}@localhost:5432/{{ $var.db }}");
        assert_eq!(s.refs.len(), 3);
        assert!(s.refs.iter().all(|r| r.braced));
        assert!(s.concatenated.is_empty());
    }

    #[test]
    fn bare_concatenation_is_flagged() {
        let s = scan("$sys.network.internalClusterEndpoint:8000");
        assert_eq!(s.refs.len(), 1);
        assert_eq!(s.concatenated, vec![0]);
        let s = scan("$var.a$var.b");
        assert_eq!(s.concatenated, vec![0, 1]);
    }

    #[test]
    fn plain_dollars_are_not_refs() {
        assert!(scan("pa$$word").refs.is_empty());
        assert!(scan("${HOME}/x").refs.is_empty());
        assert!(scan("$master.foo").refs.is_empty());
        assert!(scan("cost: 5$").refs.is_empty());
    }

    #[test]
    fn resource_keys_lower_the_first_letter() {
        assert_eq!(resource_key("ParameterGroup"), "parameterGroup");
        assert_eq!(resource_key("sentinel-sz"), "sentinel-sz");
    }
}
