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
    // A byte scan: `contains("{{")` builds a substring searcher per call.
    if !value.bytes().any(|b| b == b'$' || b == b'{') {
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

/// The end of `[0]`, `[*]` or `["key"]` / `['key']` starting at `at`.
fn index_end(bytes: &[u8], at: usize, limit: usize) -> Option<usize> {
    let inner = at + 1;
    match bytes.get(inner)? {
        b'*' => (bytes.get(inner + 1) == Some(&b']') && inner + 1 < limit).then_some(inner + 2),
        q @ (b'"' | b'\'') => {
            let len = bytes[inner + 1..limit].iter().position(|b| b == q)?;
            let close = inner + 1 + len;
            (len > 0 && bytes.get(close + 1) == Some(&b']') && close + 1 < limit)
                .then_some(close + 2)
        }
        _ => {
            let digits = bytes[inner..limit]
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .count();
            (digits > 0 && bytes.get(inner + digits) == Some(&b']') && inner + digits < limit)
                .then_some(inner + digits + 1)
        }
    }
}

/// `ident(index)*(.ident(index)*)*` with `[n]`, `[*]` or `["key"]` indexes.
fn sys_path_end(value: &str, start: usize, limit: usize) -> Option<usize> {
    let bytes = value.as_bytes();
    let mut end = ident(value, start, limit, false)?;
    loop {
        while end < limit && bytes[end] == b'[' {
            match index_end(bytes, end, limit) {
                Some(next) => end = next,
                None => return Some(end),
            }
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

/// A system parameter path with indices written `[i]` and string keys
/// `["key"]` (see [`crate::system_parameters::normalize`]).
pub fn normalize_sys_path(path: &str) -> String {
    crate::system_parameters::normalize(path)
}

/// Known system parameter paths with their type: the table of
/// [`crate::system_parameters::ALL`] as pairs (its doc lines are there).
pub const SYSTEM_PARAMETERS: &[(&str, &str)] =
    &crate::system_parameters::pairs::<{ crate::system_parameters::ALL.len() }>();

/// The type of a known system parameter path (indices in any form).
pub fn system_parameter(path: &str) -> Option<&'static str> {
    crate::system_parameters::lookup(path).map(|p| p.ty)
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
