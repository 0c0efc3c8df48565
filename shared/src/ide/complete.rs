//! Completion: keys by context, values of known keys (service names, api-param
//! keys, types, providers, booleans), `depends_on` entries and `$…` reference
//! paths.
//!
//! Rules: keys already present in the mapping and deprecated spellings are not
//! offered; nothing is offered on a line holding only whitespace.

use super::context::{context_path, schema_at, shape_of, sibling_keys, PathSeg};
use super::hover::{describe_param, PARAM_REF_KEYS};
use crate::model::keys;
use crate::model::Service;
use crate::span::{LineIndex, Span};
use crate::Analysis;

/// What a completion item is (editors map it to their own kinds).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ItemKind {
    Property,
    Value,
    Reference,
    Module,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Completion {
    pub label: String,
    pub kind: ItemKind,
    pub insert: String,
    pub detail: Option<String>,
    pub doc: Option<String>,
    /// The bytes the item replaces (on the cursor's line, up to the cursor).
    pub span: Span,
}

/// Completions at byte `offset` of `text`.
///
/// `analysis` may be of an older text (the last one that parsed): names come
/// from it, while the context comes from `text` itself.
///
/// ```
/// let text = "services:\n  Web:\n    ima";
/// let items = shared::ide::complete(text, &shared::analyze(text), text.len());
/// assert!(items.iter().any(|i| i.label == "image"));
/// ```
pub fn complete(text: &str, analysis: &Analysis, offset: usize) -> Vec<Completion> {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let index = LineIndex::new(text);
    let line0 = index.line_of(offset);
    let line_span = index.line_span(text, line0);
    let line_text = &text[line_span.start..line_span.end];
    let col_byte = offset.min(line_span.end) - line_span.start;
    let before = &line_text[..col_byte];
    if before.trim().is_empty() {
        return Vec::new();
    }
    let lines: Vec<&str> = text.split('\n').map(|l| l.trim_end_matches('\r')).collect();
    let at = |from_byte: usize| Span::new(line_span.start + from_byte, offset);
    let spec = &analysis.spec;

    let (dash, content) = match shape_of(line_text) {
        Some(s) => (s.dash, s.content),
        None => {
            let indent = line_text.len() - line_text.trim_start_matches(' ').len();
            (None, indent.min(col_byte))
        }
    };
    let path = context_path(&lines, line0, content, dash);
    let service = match (path.first(), path.get(1)) {
        (Some(PathSeg::Key(s)), Some(PathSeg::Key(name))) if s == "services" => spec.service(name),
        _ => None,
    };

    // `$…` template paths.
    if let Some(dollar) = before.rfind('$') {
        let token = &before[dollar + 1..];
        if token
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '[' | ']'))
        {
            return complete_template(analysis, service, token, &|rel| at(dollar + 1 + rel));
        }
    }

    // A value after `key: `.
    let body = &before[content.min(before.len())..];
    if let Some(colon) = body.find(": ") {
        let key = body[..colon].trim().trim_matches(['\'', '"']);
        let value_start = content + colon + 2;
        let value_start =
            value_start + before[value_start..].len() - before[value_start..].trim_start().len();
        let span = at(value_start);
        return value_items(analysis, &path, service, key)
            .into_iter()
            .map(|(label, detail)| Completion {
                insert: label.clone(),
                label,
                kind: ItemKind::Value,
                detail,
                doc: None,
                span,
            })
            .collect();
    }
    if body.contains(':') {
        return Vec::new();
    }

    // A `depends_on` list item: another service's name.
    let in_depends_on = path.len() == 4
        && path[2] == PathSeg::Key("depends_on".into())
        && path[3] == PathSeg::Index;
    if dash.is_some() && in_depends_on {
        let span = at(content.min(col_byte));
        return spec
            .services
            .iter()
            .filter(|s| service.is_none_or(|own| own.name.value != s.name.value))
            .map(|s| Completion {
                label: s.name.value.clone(),
                kind: ItemKind::Value,
                insert: s.name.value.clone(),
                detail: s.image.as_ref().map(|i| i.value.clone()),
                doc: None,
                span,
            })
            .collect();
    }

    // A key.
    let Some(schema) = schema_at(&path) else {
        return Vec::new();
    };
    let span = at(content.min(col_byte));
    let present = sibling_keys(&lines, line0, content);
    schema
        .fields
        .iter()
        .filter(|f| f.deprecated_by.is_none() && !present.contains(&f.key))
        .map(|f| Completion {
            label: f.key.to_owned(),
            kind: ItemKind::Property,
            insert: match f.ty {
                keys::FieldType::Map => format!("{}:\n", f.key),
                _ => format!("{}: ", f.key),
            },
            detail: Some(format!("{:?}", f.ty)),
            doc: Some(crate::docs::key(schema, f).to_owned()),
            span,
        })
        .collect()
}

fn value_items(
    analysis: &Analysis,
    path: &[PathSeg],
    service: Option<&Service>,
    key: &str,
) -> Vec<(String, Option<String>)> {
    let spec = &analysis.spec;
    match key {
        "dependentResourceKey" => spec
            .services
            .iter()
            .filter(|s| service.is_none_or(|own| own.name.value != s.name.value))
            .map(|s| {
                (
                    s.name.value.clone(),
                    s.image.as_ref().map(|i| i.value.clone()),
                )
            })
            .collect(),
        k if PARAM_REF_KEYS.contains(&k) => service
            .map(|s| {
                s.api_params
                    .iter()
                    .filter_map(|p| {
                        Some((
                            p.key_str()?.to_owned(),
                            p.type_name.as_ref().map(|t| t.value.clone()),
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default(),
        "type" if schema_at(path).is_some_and(|s| s.name == keys::API_PARAM.name) => {
            crate::model::ParamType::ALL
                .iter()
                .map(|t| (t.name().to_owned(), None))
                .collect()
        }
        "cloudProvider" => keys::CLOUD_PROVIDERS
            .iter()
            .map(|c| ((*c).to_owned(), None))
            .collect(),
        _ => match schema_at(path).and_then(|s| s.field(key)) {
            Some(f) if f.ty == keys::FieldType::Bool => {
                vec![("true".into(), None), ("false".into(), None)]
            }
            _ => Vec::new(),
        },
    }
}

/// Items for the `$…` token before the cursor; `at(n)` spans from `n` bytes
/// after the `$` to the cursor.
fn complete_template(
    analysis: &Analysis,
    current: Option<&Service>,
    token: &str,
    at: &dyn Fn(usize) -> Span,
) -> Vec<Completion> {
    let spec = &analysis.spec;
    let parts: Vec<&str> = token.splitn(3, '.').collect();
    let item = |label: String, kind, detail, doc, from: usize| Completion {
        insert: label.clone(),
        label,
        kind,
        detail,
        doc,
        span: at(from),
    };
    let sys_items = |from: usize, owner: &str| -> Vec<Completion> {
        crate::system_parameters::ALL
            .iter()
            .map(|p| {
                item(
                    p.path.replace("[i]", "[0]"),
                    ItemKind::Reference,
                    Some(p.ty.to_owned()),
                    Some(format!(
                        "{} (system parameter of {owner})",
                        crate::docs::sys(p)
                    )),
                    from,
                )
            })
            .collect()
    };
    let var_items = |from: usize, service: Option<&Service>| -> Vec<Completion> {
        let Some(s) = service else {
            return Vec::new();
        };
        s.api_params
            .iter()
            .filter_map(|p| {
                Some(item(
                    p.key_str()?.to_owned(),
                    ItemKind::Reference,
                    p.type_name.as_ref().map(|t| t.value.clone()),
                    Some(describe_param(&s.name.value, p)),
                    from,
                ))
            })
            .collect()
    };
    let module = |label: &str, detail: Option<String>, from: usize| {
        item(label.to_owned(), ItemKind::Module, detail, None, from)
    };
    match parts.as_slice() {
        [_] => {
            let mut out = vec![
                module("var.", Some("this resource's API params".into()), 0),
                module("sys.", Some("system parameters".into()), 0),
            ];
            for s in &spec.services {
                out.push(module(
                    &format!("{}.", s.resource_key()),
                    Some(format!("service {}", s.name.value)),
                    0,
                ));
            }
            out
        }
        ["var", _] => match current {
            Some(service) => var_items(4, Some(service)),
            // Outside a service (or unknown): every param.
            None => spec
                .services
                .iter()
                .flat_map(|s| var_items(4, Some(s)))
                .collect(),
        },
        ["sys", ..] => sys_items(4, "this resource"),
        [rk, _] => {
            let from = rk.len() + 1;
            vec![module("var.", None, from), module("sys.", None, from)]
        }
        [rk, kind, _] => {
            let from = rk.len() + kind.len() + 2;
            let target = spec.service_by_resource_key(rk);
            match *kind {
                "var" => var_items(from, target),
                "sys" => sys_items(
                    from,
                    &format!("`{}`", target.map(|s| s.name.value.as_str()).unwrap_or(rk)),
                ),
                _ => Vec::new(),
            }
        }
        _ => Vec::new(),
    }
}
