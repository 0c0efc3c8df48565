//! Hover: a key's schema docs, a service or api-param behind a name, a
//! resolved `$…` reference, and the explanation of any finding under the cursor.

use super::context::{is_key, node_at, schema_at, tree_path, PathSeg};
use crate::model::{ApiParam, Service, TemplateUse};
use crate::span::Span;
use crate::syntax::Seg;
use crate::template::{RefKind, RefScope};
use crate::Analysis;

/// Markdown for a position and the span it describes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hover {
    pub markdown: String,
    pub span: Option<Span>,
}

/// Keys whose value names an api-param of the same service.
pub(crate) const PARAM_REF_KEYS: &[&str] = &[
    "apiParam",
    "replicaCountAPIParam",
    "minReplicasAPIParam",
    "maxReplicasAPIParam",
    "cpuAPIParam",
    "memoryAPIParam",
];

/// The hover at byte `offset` of `text` (analysed as `analysis`).
///
/// ```
/// let text = "services:\n  Web:\n    image: nginx\n";
/// let a = shared::analyze(text);
/// let h = shared::ide::hover(&a, text.find("image").unwrap() + 1).unwrap();
/// assert!(h.markdown.contains("image"));
/// ```
pub fn hover(analysis: &Analysis, offset: usize) -> Option<Hover> {
    let mut parts: Vec<String> = Vec::new();
    let mut span = None;

    // Findings here: the rule's explanation.
    for d in &analysis.diagnostics {
        if d.span.start <= offset && offset <= d.span.end.max(d.span.start + 1) {
            if let Some(rule) = crate::rules::find(d.code) {
                let meta = rule.meta();
                let docs = crate::rules::docs_markdown(meta);
                let summary = crate::docs::summary(meta);
                let what = section(&docs, "## What").unwrap_or(summary.to_owned());
                let why = section(&docs, "## Why").unwrap_or_default();
                parts.push(format!(
                    "**{}** `{}` — {}\n\n{}\n\n{}",
                    meta.code, meta.name, summary, what, why
                ));
            }
        }
    }

    let spec = &analysis.spec;
    let tree = &analysis.tree;
    if let Some(usage) = spec
        .templates
        .iter()
        .find(|u| u.span.start <= offset && offset <= u.span.end)
    {
        span = Some(usage.span);
        parts.insert(0, describe_reference(analysis, usage));
    } else if let Some(node) = node_at(tree, offset) {
        let n = tree.node(node);
        match n.seg {
            Seg::KeyOf(_) => {
                let key = tree.str(node).unwrap_or_default();
                let parent_path = n.parent.map(|p| tree_path(tree, p)).unwrap_or_default();
                if let Some(schema) = schema_at(&parent_path) {
                    if let Some(field) = schema.field(key) {
                        span = Some(tree.value_span(node));
                        let mut doc = format!(
                            "**`{}`** ({}, {:?})\n\n{}",
                            field.key,
                            schema.name,
                            field.ty,
                            crate::docs::key(schema, field)
                        );
                        if let Some(by) = field.deprecated_by {
                            doc.push_str(&format!("\n\n*Deprecated:* use `{by}`."));
                        }
                        parts.insert(0, doc);
                    }
                } else if parent_path == [PathSeg::Key("services".into())] {
                    if let Some(service) = spec.service(key) {
                        span = Some(tree.value_span(node));
                        parts.insert(0, describe_service(analysis, service));
                    }
                }
            }
            Seg::Key(key_node) => {
                let key = tree.str(key_node).unwrap_or_default();
                let value = tree.str(node).unwrap_or_default();
                let path = tree_path(tree, node);
                let service_name = match path.get(1) {
                    Some(PathSeg::Key(s)) if is_key(path.first(), "services") => Some(s.as_str()),
                    _ => None,
                };
                let doc = match key {
                    "dependentResourceKey" => {
                        spec.service(value).map(|s| describe_service(analysis, s))
                    }
                    k if PARAM_REF_KEYS.contains(&k) => service_name
                        .and_then(|s| spec.service(s))
                        .and_then(|s| s.param(value).map(|p| describe_param(&s.name.value, p))),
                    _ => None,
                };
                if let Some(doc) = doc {
                    span = Some(tree.value_span(node));
                    parts.insert(0, doc);
                }
            }
            _ => {}
        }
    }
    (!parts.is_empty()).then(|| Hover {
        markdown: parts.join("\n\n---\n\n"),
        span,
    })
}

/// The text of a `## Heading` section of rule docs.
fn section(docs: &str, heading: &str) -> Option<String> {
    let start = docs.find(heading)? + heading.len();
    let rest = &docs[start..];
    let end = rest.find("\n## ").unwrap_or(rest.len());
    Some(rest[..end].trim().to_owned())
}

pub(crate) fn describe_service(analysis: &Analysis, service: &Service) -> String {
    let kind = if service.is_passive() {
        "passive (parameters only)"
    } else {
        "compute"
    };
    let image = service
        .image
        .as_ref()
        .map(|i| format!(", image `{}`", i.value))
        .unwrap_or_default();
    let params: Vec<String> = service
        .api_params
        .iter()
        .filter_map(|p| p.key_str().map(|k| format!("`{k}`")))
        .collect();
    let edges_in = analysis
        .graph
        .edges
        .iter()
        .filter(|e| e.to == service.name.value)
        .count();
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    format!(
        "**Service `{}`** — {kind}{image}\n\nResource key `{}`; {} API param{}{}; {} incoming link{}.",
        service.name.value,
        service.resource_key(),
        params.len(),
        plural(params.len()),
        if params.is_empty() { String::new() } else { format!(" ({})", params.join(", ")) },
        edges_in,
        plural(edges_in),
    )
}

pub(crate) fn describe_param(service: &str, param: &ApiParam) -> String {
    let key = param.key_str().unwrap_or("?");
    let mut out = format!("**API param `{key}`** of `{service}`");
    if let Some(name) = &param.name {
        out.push_str(&format!(" — {}", name.value));
    }
    out.push_str("\n\n");
    if let Some(t) = &param.type_name {
        out.push_str(&format!("Type `{}`", t.value));
    }
    if param.is_required() {
        out.push_str(", required");
    }
    // Secrets: never show a default value.
    if let (Some(d), false) = (&param.default_value, param.is_secret()) {
        out.push_str(&format!(", default `{}`", d.value));
    }
    if param.is_secret() {
        out.push_str(", secret (not exported)");
    }
    if let Some(desc) = &param.description {
        out.push_str(&format!("\n\n{}", desc.value));
    }
    out
}

fn describe_reference(analysis: &Analysis, usage: &TemplateUse) -> String {
    let spec = &analysis.spec;
    let r = &usage.reference;
    let target = match &r.scope {
        RefScope::This => spec.services.get(usage.service),
        RefScope::Resource(key) => spec.service_by_resource_key(key),
    };
    let written = match &r.scope {
        RefScope::This => format!("${}.{}", kind_word(r.kind), r.path),
        RefScope::Resource(k) => format!("${k}.{}.{}", kind_word(r.kind), r.path),
    };
    let Some(target) = target else {
        return format!("**`{written}`**\n\nNo service has this resource key.");
    };
    let svc = &target.name.value;
    match r.kind {
        RefKind::Var => match target.param(&r.path) {
            Some(param) => format!("**`{written}`** → {}", describe_param(svc, param)),
            None => format!(
                "**`{written}`**\n\nService `{svc}` declares no API param `{}`.",
                r.path
            ),
        },
        RefKind::Sys => match crate::system_parameters::lookup(&r.path) {
            Some(param) => format!(
                "**`{written}`** → system parameter `{}` ({}) of service `{svc}`\n\n{}",
                r.path,
                param.ty,
                crate::docs::sys(param)
            ),
            None => format!("**`{written}`**\n\nNot a known system parameter."),
        },
    }
}

fn kind_word(kind: RefKind) -> &'static str {
    match kind {
        RefKind::Var => "var",
        RefKind::Sys => "sys",
    }
}
