//! Names and where they are used: go-to-definition, find-references and rename
//! of services and api-params.
//!
//! A service is named by its key under `services:`, by `depends_on` entries,
//! by `dependentResourceKey` values and, spelled as its resource key, by
//! `$<resource>.…` references. An api-param is named by its `key:`, by
//! `$var.X` in its own service, by `$<resource>.var.X` elsewhere and by the
//! `…APIParam` / `apiParam` keys of its own service.

use super::hover::PARAM_REF_KEYS;
use crate::diagnostic::TextEdit;
use crate::span::Span;
use crate::syntax::{NodeKind, Seg};
use crate::template::{resource_key, RefKind, RefScope};
use crate::Analysis;

/// A named thing in a spec.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Symbol {
    /// Index into `spec.services`.
    Service(usize),
    /// Service index and param index in its `api_params`.
    Param(usize, usize),
}

/// One place a symbol is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Occurrence {
    pub span: Span,
    /// The defining spelling (a service key, a param's `key:` value).
    pub declaration: bool,
    /// Spelled as a resource key (`master` in `$master.sys…`).
    pub resource_key: bool,
}

fn within(span: Span, offset: usize) -> bool {
    span.start <= offset && offset <= span.end
}

/// The symbol at byte `offset`, with the span of the token naming it.
pub fn symbol_at(analysis: &Analysis, offset: usize) -> Option<(Symbol, Span)> {
    let spec = &analysis.spec;
    let by_key = |key: &str| spec.services.iter().position(|s| s.resource_key() == key);
    for u in &spec.templates {
        if !within(u.span, offset) {
            continue;
        }
        let target = match &u.reference.scope {
            RefScope::This => Some(u.service),
            RefScope::Resource(key) => by_key(key),
        }?;
        if let Some(rs) = u.resource_span.filter(|rs| within(*rs, offset)) {
            return Some((Symbol::Service(target), rs));
        }
        if u.reference.kind == RefKind::Var {
            let path = var_path_span(u);
            let param = spec.services[target]
                .api_params
                .iter()
                .position(|p| p.key_str() == Some(u.reference.path.as_str()));
            if let (Some(param), true) = (param, within(path, offset)) {
                return Some((Symbol::Param(target, param), path));
            }
        }
        return None;
    }
    for (si, s) in spec.services.iter().enumerate() {
        if within(s.name.span, offset) {
            return Some((Symbol::Service(si), s.name.span));
        }
        for (pi, p) in s.api_params.iter().enumerate() {
            if let Some(k) = p.key.as_ref().filter(|k| within(k.span, offset)) {
                return Some((Symbol::Param(si, pi), k.span));
            }
        }
        for d in &s.depends_on {
            if within(d.service.span, offset) {
                return Some((
                    Symbol::Service(spec.service_index(&d.service.value)?),
                    d.service.span,
                ));
            }
        }
    }
    for v in named_values(analysis) {
        if !within(v.span, offset) {
            continue;
        }
        return match v.role {
            Role::ServiceName => Some((Symbol::Service(spec.service_index(v.value)?), v.span)),
            Role::ParamKey(si) => {
                let pi = spec.services[si]
                    .api_params
                    .iter()
                    .position(|p| p.key_str() == Some(v.value))?;
                Some((Symbol::Param(si, pi), v.span))
            }
        };
    }
    None
}

/// Where `$…var.X` writes `X`.
fn var_path_span(u: &crate::model::TemplateUse) -> Span {
    let len = u.reference.path.len().min(u.span.len());
    Span::new(u.span.end - len, u.span.end)
}

enum Role {
    ServiceName,
    /// A param key of the service with this index.
    ParamKey(usize),
}

struct NamedValue<'a> {
    value: &'a str,
    span: Span,
    role: Role,
}

/// `dependentResourceKey: <service>` and `…APIParam: <param>` values.
fn named_values(analysis: &Analysis) -> Vec<NamedValue<'_>> {
    let tree = &analysis.tree;
    let mut out = Vec::new();
    for node in &tree.nodes {
        let (Seg::Key(key), NodeKind::Scalar(scalar)) = (node.seg, &node.kind) else {
            continue;
        };
        let key = tree.str(key).unwrap_or_default();
        let role = if key == "dependentResourceKey" {
            Role::ServiceName
        } else if PARAM_REF_KEYS.contains(&key) {
            let Some(si) = analysis.spec.services.iter().position(|s| {
                let block = tree.span(s.node);
                block.start <= node.span.start && node.span.end <= block.end
            }) else {
                continue;
            };
            Role::ParamKey(si)
        } else {
            continue;
        };
        out.push(NamedValue {
            value: &scalar.value,
            span: scalar.exact.unwrap_or(node.span),
            role,
        });
    }
    out
}

/// Every place `symbol` is written, declaration first.
pub fn occurrences(analysis: &Analysis, symbol: Symbol) -> Vec<Occurrence> {
    let spec = &analysis.spec;
    let mut out = Vec::new();
    let mut push = |span: Span, declaration: bool, resource_key: bool| {
        out.push(Occurrence {
            span,
            declaration,
            resource_key,
        })
    };
    match symbol {
        Symbol::Service(si) => {
            let Some(service) = spec.services.get(si) else {
                return Vec::new();
            };
            let name = service.name.value.as_str();
            let key = service.resource_key();
            push(service.name.span, true, false);
            for s in &spec.services {
                for d in s.depends_on.iter().filter(|d| d.service.value == name) {
                    push(d.service.span, false, false);
                }
            }
            for v in named_values(analysis) {
                if matches!(v.role, Role::ServiceName) && v.value == name {
                    push(v.span, false, false);
                }
            }
            for u in &spec.templates {
                if let (RefScope::Resource(k), Some(rs)) = (&u.reference.scope, u.resource_span) {
                    if *k == key {
                        push(rs, false, true);
                    }
                }
            }
        }
        Symbol::Param(si, pi) => {
            let Some(service) = spec.services.get(si) else {
                return Vec::new();
            };
            let Some(param) = service.api_params.get(pi) else {
                return Vec::new();
            };
            let Some(key) = param.key.as_ref() else {
                return Vec::new();
            };
            push(key.span, true, false);
            let owner_key = service.resource_key();
            for u in &spec.templates {
                let mine = match &u.reference.scope {
                    RefScope::This => u.service == si,
                    RefScope::Resource(k) => *k == owner_key,
                };
                if mine && u.reference.kind == RefKind::Var && u.reference.path == key.value {
                    push(var_path_span(u), false, false);
                }
            }
            for v in named_values(analysis) {
                if matches!(v.role, Role::ParamKey(s) if s == si) && v.value == key.value {
                    push(v.span, false, false);
                }
            }
        }
    }
    out.sort_by_key(|o| (!o.declaration, o.span));
    out.dedup_by_key(|o| o.span);
    out
}

/// Where the symbol at `offset` is declared.
pub fn definition(analysis: &Analysis, offset: usize) -> Option<Span> {
    let (symbol, _) = symbol_at(analysis, offset)?;
    occurrences(analysis, symbol)
        .into_iter()
        .find(|o| o.declaration)
        .map(|o| o.span)
}

/// Every use of the symbol at `offset` (with its declaration when asked).
pub fn references(analysis: &Analysis, offset: usize, include_declaration: bool) -> Vec<Span> {
    let Some((symbol, _)) = symbol_at(analysis, offset) else {
        return Vec::new();
    };
    occurrences(analysis, symbol)
        .into_iter()
        .filter(|o| include_declaration || !o.declaration)
        .map(|o| o.span)
        .collect()
}

/// Why a rename cannot be made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RenameError(pub String);

impl std::fmt::Display for RenameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The span a rename at `offset` would start from (the token under the cursor).
pub fn prepare_rename(analysis: &Analysis, offset: usize) -> Option<Span> {
    symbol_at(analysis, offset).map(|(_, span)| span)
}

/// Edits renaming the symbol at `offset` to `new_name` everywhere. For a
/// service, `new_name` is the service name; its resource-key spellings become
/// `resource_key(new_name)`.
///
/// ```
/// let text = "services:\n  Db:\n    image: mysql\n  App:\n    image: app\n    depends_on: [Db]\n";
/// let a = shared::analyze(text);
/// let edits = shared::ide::rename(&a, text.find("Db").unwrap(), "Data").unwrap();
/// assert_eq!(edits.len(), 2);
/// ```
pub fn rename(
    analysis: &Analysis,
    offset: usize,
    new_name: &str,
) -> Result<Vec<TextEdit>, RenameError> {
    let Some((symbol, _)) = symbol_at(analysis, offset) else {
        return Err(RenameError("Nothing to rename here.".into()));
    };
    let valid = !new_name.is_empty()
        && new_name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'))
        && new_name.starts_with(|c: char| c.is_ascii_alphabetic());
    if !valid {
        return Err(RenameError(format!(
            "`{new_name}` is not a valid name (letters, digits, `_` and `-`, starting with a letter)."
        )));
    }
    let spec = &analysis.spec;
    match symbol {
        Symbol::Service(si) => {
            let clash = spec.services.iter().enumerate().any(|(i, s)| {
                i != si && (s.name.value == new_name || s.resource_key() == resource_key(new_name))
            });
            if clash {
                return Err(RenameError(format!("A service named `{new_name}` exists.")));
            }
        }
        Symbol::Param(si, pi) => {
            let clash = spec.services[si]
                .api_params
                .iter()
                .enumerate()
                .any(|(i, p)| i != pi && p.key_str() == Some(new_name));
            if clash {
                return Err(RenameError(format!(
                    "Service `{}` already has an API param `{new_name}`.",
                    spec.services[si].name.value
                )));
            }
        }
    }
    let key = resource_key(new_name);
    Ok(occurrences(analysis, symbol)
        .into_iter()
        .map(|o| TextEdit {
            span: o.span,
            replacement: if o.resource_key {
                key.clone()
            } else {
                new_name.to_owned()
            },
        })
        .collect())
}
