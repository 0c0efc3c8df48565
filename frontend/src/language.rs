//! Editor intelligence over the `shared` crate: hover docs, completion and the
//! key context at a cursor. Pure Rust (no browser), so it is unit-tested natively.
//!
//! Positions are 1-based lines and 1-based UTF-16 columns, as Monaco gives them.

use shared::model::keys::{self, ObjectSchema};
use shared::span::{LineIndex, Range, Span};
use shared::syntax::{NodeId, NodeKind, Seg, Tree};
use shared::template::{self, RefKind, RefScope};
use shared::Analysis;

/// One segment of a path from the root to a mapping.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PathSeg {
    Key(String),
    Index,
}

fn is_key(seg: Option<&PathSeg>, name: &str) -> bool {
    matches!(seg, Some(PathSeg::Key(k)) if k == name)
}

/// The schema of the mapping at `path` (the path of the mapping itself).
pub fn schema_at(path: &[PathSeg]) -> Option<&'static ObjectSchema> {
    use PathSeg::*;
    let n = path.len();
    if n == 0 {
        return Some(&keys::ROOT);
    }
    if !is_key(path.first(), "services") {
        return None;
    }
    match n {
        2 => Some(&keys::SERVICE),
        3 if is_key(path.get(2), "x-omnistrate-compute") => Some(&keys::COMPUTE),
        3 if is_key(path.get(2), "x-omnistrate-capabilities") => Some(&keys::CAPABILITIES),
        4 if is_key(path.get(2), "x-omnistrate-api-params") && path[3] == Index => {
            Some(&keys::API_PARAM)
        }
        4 if is_key(path.get(2), "x-omnistrate-capabilities")
            && is_key(path.get(3), "autoscaling") =>
        {
            Some(&keys::AUTOSCALING)
        }
        4 if is_key(path.get(2), "x-omnistrate-capabilities")
            && is_key(path.get(3), "serverlessConfiguration") =>
        {
            Some(&keys::SERVERLESS)
        }
        5 if is_key(path.get(2), "x-omnistrate-compute")
            && is_key(path.get(3), "instanceTypes")
            && path[4] == Index =>
        {
            Some(&keys::INSTANCE_TYPE)
        }
        5 if is_key(path.get(2), "x-omnistrate-api-params") && is_key(path.get(4), "limits") => {
            Some(&keys::LIMITS)
        }
        _ => None,
    }
}

/// Path from the root to `node` (exclusive of the node's own key).
fn tree_path(tree: &Tree, node: NodeId) -> Vec<PathSeg> {
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
fn node_at(tree: &Tree, offset: usize) -> Option<NodeId> {
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

/// Markdown for the hover at a position, and the range it covers.
pub fn hover(
    text: &str,
    analysis: &Analysis,
    line: u32,
    column: u32,
) -> Option<(String, Option<Range>)> {
    let index = LineIndex::new(text);
    let offset = index.offset_utf16(text, line as usize, column as usize);
    let mut parts: Vec<String> = Vec::new();
    let mut range = None;

    // Diagnostics here: the rule's explanation.
    for d in &analysis.diagnostics {
        if d.span.start <= offset && offset <= d.span.end.max(d.span.start + 1) {
            if let Some(rule) = shared::rules::find(d.code) {
                let meta = rule.meta();
                let docs = shared::rules::docs_markdown(meta);
                let what = section(&docs, "## What").unwrap_or(meta.summary.to_owned());
                let why = section(&docs, "## Why").unwrap_or_default();
                parts.push(format!(
                    "**{}** `{}` — {}\n\n{}\n\n{}",
                    meta.code, meta.name, meta.summary, what, why
                ));
            }
        }
    }

    // Template references.
    let spec = &analysis.spec;
    if let Some(usage) = spec
        .templates
        .iter()
        .find(|u| u.span.start <= offset && offset <= u.span.end)
    {
        range = Some(index.range_utf16(text, usage.span));
        parts.insert(0, describe_reference(analysis, usage));
    } else if let Some(node) = node_at(&analysis.tree, offset) {
        let tree = &analysis.tree;
        let n = tree.node(node);
        match n.seg {
            Seg::KeyOf(_) => {
                let key = tree.str(node).unwrap_or_default();
                let parent_path = n.parent.map(|p| tree_path(tree, p)).unwrap_or_default();
                if let Some(schema) = schema_at(&parent_path) {
                    if let Some(field) = schema.field(key) {
                        range = Some(index.range_utf16(text, tree.value_span(node)));
                        let mut doc = format!(
                            "**`{}`** ({}, {:?})\n\n{}",
                            field.key, schema.name, field.ty, field.doc
                        );
                        if let Some(by) = field.deprecated_by {
                            doc.push_str(&format!("\n\n*Deprecated:* use `{by}`."));
                        }
                        parts.insert(0, doc);
                    }
                } else if parent_path == [PathSeg::Key("services".into())] {
                    if let Some(service) = spec.service(key) {
                        range = Some(index.range_utf16(text, tree.value_span(node)));
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
                    "apiParam"
                    | "replicaCountAPIParam"
                    | "minReplicasAPIParam"
                    | "maxReplicasAPIParam"
                    | "cpuAPIParam"
                    | "memoryAPIParam" => {
                        service_name.and_then(|s| spec.service(s)).and_then(|s| {
                            s.param(value)
                                .map(|p| describe_param(s.name.value.as_str(), p))
                        })
                    }
                    _ => None,
                };
                if let Some(doc) = doc {
                    range = Some(index.range_utf16(text, tree.value_span(node)));
                    parts.insert(0, doc);
                }
            }
            _ => {}
        }
    }
    if parts.is_empty() {
        None
    } else {
        Some((parts.join("\n\n---\n\n"), range))
    }
}

/// The text of a `## Heading` section of rule docs.
fn section(docs: &str, heading: &str) -> Option<String> {
    let start = docs.find(heading)? + heading.len();
    let rest = &docs[start..];
    let end = rest.find("\n## ").unwrap_or(rest.len());
    Some(rest[..end].trim().to_owned())
}

fn describe_service(analysis: &Analysis, service: &shared::model::Service) -> String {
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
    format!(
        "**Service `{}`** — {kind}{image}\n\nResource key `{}`; {} API param{}{}; {} incoming link{}.",
        service.name.value,
        service.resource_key(),
        params.len(),
        if params.len() == 1 { "" } else { "s" },
        if params.is_empty() { String::new() } else { format!(" ({})", params.join(", ")) },
        edges_in,
        if edges_in == 1 { "" } else { "s" },
    )
}

fn describe_param(service: &str, param: &shared::model::ApiParam) -> String {
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
    if let Some(d) = &param.default_value {
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

fn describe_reference(analysis: &Analysis, usage: &shared::model::TemplateUse) -> String {
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
        RefKind::Sys => match template::system_parameter(&r.path) {
            Some(ty) => format!(
                "**`{written}`** → system parameter `{}` ({ty}) of service `{svc}`",
                r.path
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

/// What a completion item is (mapped to Monaco's `CompletionItemKind`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ItemKind {
    Property,
    Value,
    Reference,
    Module,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Completion {
    pub label: String,
    pub kind: ItemKind,
    pub insert: String,
    pub detail: Option<String>,
    pub doc: Option<String>,
    /// What the item replaces.
    pub range: Range,
}

/// One source line as the completer sees it.
#[derive(Clone, Copy, Debug)]
struct LineShape<'a> {
    /// Column of `- ` when the line starts a list item.
    dash: Option<usize>,
    /// Column where the key (or plain content) starts.
    content: usize,
    /// The key, when the line holds `key:`.
    key: Option<&'a str>,
}

fn shape_of(line: &str) -> Option<LineShape<'_>> {
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
/// Works on text that does not parse (the user is typing).
fn context_path(
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
    for l in (0..line_no).rev() {
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

fn utf16_col(s: &str, byte: usize) -> usize {
    s[..byte].encode_utf16().count() + 1
}

/// Completions at a position.
pub fn complete(text: &str, analysis: &Analysis, line: u32, column: u32) -> Vec<Completion> {
    let index = LineIndex::new(text);
    let offset = index.offset_utf16(text, line as usize, column as usize);
    let line0 = index.line_of(offset);
    let line_span = index.line_span(text, line0);
    let line_text = &text[line_span.start..line_span.end];
    let col_byte = offset - line_span.start;
    let before = &line_text[..col_byte];
    let lines: Vec<&str> = text.split('\n').map(|l| l.trim_end_matches('\r')).collect();
    let lno = line as usize;
    let range_of = |from_byte: usize| Range {
        start: shared::span::Position {
            line: lno,
            column: utf16_col(line_text, from_byte),
        },
        end: shared::span::Position {
            line: lno,
            column: utf16_col(line_text, col_byte),
        },
    };
    let spec = &analysis.spec;

    let shape = shape_of(line_text);
    let (dash, content) = match shape {
        Some(s) => (s.dash, s.content),
        None => {
            let indent = line_text.len() - line_text.trim_start_matches(' ').len();
            (None, indent.min(col_byte))
        }
    };
    let path = context_path(&lines, lno - 1, content, dash);
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
            return complete_template(analysis, service, token, dollar + 1, &range_of);
        }
    }

    // A value after `key: `.
    let body = &before[content.min(before.len())..];
    if let Some(colon) = body.find(": ") {
        let key = body[..colon].trim().trim_matches(['\'', '"']);
        let value_start = content + colon + 2;
        let value_start =
            value_start + before[value_start..].len() - before[value_start..].trim_start().len();
        let range = range_of(value_start);
        let values: Vec<(String, Option<String>)> = match key {
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
            "apiParam"
            | "replicaCountAPIParam"
            | "minReplicasAPIParam"
            | "maxReplicasAPIParam"
            | "cpuAPIParam"
            | "memoryAPIParam" => service
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
            "type" if schema_at(&path).is_some_and(|s| s.name == keys::API_PARAM.name) => {
                shared::model::ParamType::ALL
                    .iter()
                    .map(|t| (t.name().to_owned(), None))
                    .collect()
            }
            "cloudProvider" => keys::CLOUD_PROVIDERS
                .iter()
                .map(|c| ((*c).to_owned(), None))
                .collect(),
            _ => match schema_at(&path).and_then(|s| s.field(key)) {
                Some(f) if f.ty == keys::FieldType::Bool => {
                    vec![("true".into(), None), ("false".into(), None)]
                }
                _ => Vec::new(),
            },
        };
        return values
            .into_iter()
            .map(|(label, detail)| Completion {
                insert: label.clone(),
                label,
                kind: ItemKind::Value,
                detail,
                doc: None,
                range,
            })
            .collect();
    }
    if body.contains(':') {
        return Vec::new();
    }

    // A key.
    let Some(schema) = schema_at(&path) else {
        return Vec::new();
    };
    let start = content.min(col_byte);
    let range = range_of(start);
    let present: Vec<&str> = sibling_keys(&lines, lno - 1, content);
    schema
        .fields
        .iter()
        .filter(|f| !present.contains(&f.key))
        .map(|f| Completion {
            label: f.key.to_owned(),
            kind: ItemKind::Property,
            insert: match f.ty {
                keys::FieldType::Map => format!("{}:\n", f.key),
                _ => format!("{}: ", f.key),
            },
            detail: Some(format!(
                "{:?}{}",
                f.ty,
                if f.deprecated_by.is_some() {
                    " (deprecated)"
                } else {
                    ""
                }
            )),
            doc: Some(f.doc.to_owned()),
            range,
        })
        .collect()
}

/// Keys already written at the same indent around a line (to not offer them again).
fn sibling_keys<'a>(lines: &[&'a str], line0: usize, content: usize) -> Vec<&'a str> {
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

fn complete_template(
    analysis: &Analysis,
    current: Option<&shared::model::Service>,
    token: &str,
    token_start: usize,
    range_of: &dyn Fn(usize) -> Range,
) -> Vec<Completion> {
    let spec = &analysis.spec;
    let parts: Vec<&str> = token.splitn(3, '.').collect();
    let item = |label: String,
                kind: ItemKind,
                detail: Option<String>,
                doc: Option<String>,
                from: usize| Completion {
        insert: label.clone(),
        label,
        kind,
        detail,
        doc,
        range: range_of(from),
    };
    let sys_items = |from: usize, owner: &str| -> Vec<Completion> {
        template::SYSTEM_PARAMETERS
            .iter()
            .map(|(p, ty)| {
                item(
                    p.replace("[i]", "[0]"),
                    ItemKind::Reference,
                    Some((*ty).to_owned()),
                    Some(format!("System parameter of {owner}")),
                    from,
                )
            })
            .collect()
    };
    let var_items = |from: usize, service: Option<&shared::model::Service>| -> Vec<Completion> {
        service
            .map(|s| {
                s.api_params
                    .iter()
                    .filter_map(|p| {
                        let key = p.key_str()?;
                        Some(item(
                            key.to_owned(),
                            ItemKind::Reference,
                            p.type_name.as_ref().map(|t| t.value.clone()),
                            Some(describe_param(&s.name.value, p)),
                            from,
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    match parts.as_slice() {
        [_] => {
            let mut out = vec![
                item(
                    "var.".into(),
                    ItemKind::Module,
                    Some("this resource's API params".into()),
                    None,
                    token_start,
                ),
                item(
                    "sys.".into(),
                    ItemKind::Module,
                    Some("system parameters".into()),
                    None,
                    token_start,
                ),
            ];
            for s in &spec.services {
                out.push(item(
                    format!("{}.", s.resource_key()),
                    ItemKind::Module,
                    Some(format!("service {}", s.name.value)),
                    None,
                    token_start,
                ));
            }
            out
        }
        ["var", _] => {
            let from = token_start + 4;
            match current {
                Some(service) => var_items(from, Some(service)),
                // Outside a service (or unknown): every param.
                None => spec
                    .services
                    .iter()
                    .flat_map(|s| var_items(from, Some(s)))
                    .collect(),
            }
        }
        ["sys", ..] => sys_items(token_start + 4, "this resource"),
        [rk, _] => {
            let from = token_start + rk.len() + 1;
            vec![
                item("var.".into(), ItemKind::Module, None, None, from),
                item("sys.".into(), ItemKind::Module, None, None, from),
            ]
        }
        [rk, kind, _] => {
            let from = token_start + rk.len() + kind.len() + 2;
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

/// The byte span of a service's name, for "reveal in editor".
pub fn service_span(analysis: &Analysis, name: &str) -> Option<Span> {
    analysis.spec.service(name).map(|s| s.name.span)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: &str = include_str!("../../examples/serverless-mysql-master-replica.yaml");

    fn pos(text: &str, needle: &str, plus: usize) -> (u32, u32) {
        let offset = text.find(needle).unwrap() + plus;
        let index = LineIndex::new(text);
        let p = index.position_utf16(text, offset);
        (p.line as u32, p.column as u32)
    }

    #[test]
    fn hover_on_a_key_shows_its_docs() {
        let a = shared::analyze(SEED);
        let (l, c) = pos(SEED, "replicaCountAPIParam", 3);
        let (md, _) = hover(SEED, &a, l, c).unwrap();
        assert!(md.contains("replicaCountAPIParam"), "{md}");
        let (l, c) = pos(SEED, "x-omnistrate-compute", 3);
        let (md, _) = hover(SEED, &a, l, c).unwrap();
        assert!(md.contains("Instance types"), "{md}");
    }

    #[test]
    fn hover_on_a_reference_resolves_it() {
        let a = shared::analyze(SEED);
        let (l, c) = pos(SEED, "$parameterGroup.var.mysqlPassword", 5);
        let (md, _) = hover(SEED, &a, l, c).unwrap();
        assert!(
            md.contains("mysqlPassword") && md.contains("ParameterGroup"),
            "{md}"
        );
        let (l, c) = pos(SEED, "$master.sys.network", 2);
        let (md, _) = hover(SEED, &a, l, c).unwrap();
        assert!(md.contains("Master") && md.contains("string"), "{md}");
    }

    #[test]
    fn completes_service_names_for_dependent_resource_key() {
        let text = SEED.replace("dependentResourceKey: Master", "dependentResourceKey: M");
        let a = shared::analyze(&text);
        let (l, c) = pos(&text, "dependentResourceKey: M", 23);
        let items = complete(&text, &a, l, c);
        let labels: Vec<&str> = items.iter().map(|i| i.label.as_str()).collect();
        assert!(labels.contains(&"Master"), "{labels:?}");
        assert!(
            !labels.contains(&"Replica"),
            "own service offered: {labels:?}"
        );
    }

    #[test]
    fn completes_keys_by_context() {
        let text = SEED.replace(
            "      enableMultiZone: true\n",
            "      enableMultiZone: true\n      ena\n",
        );
        let a = shared::analyze(&text);
        let (l, c) = pos(&text, "      ena\n", 9);
        let labels: Vec<String> = complete(&text, &a, l, c)
            .into_iter()
            .map(|i| i.label)
            .collect();
        assert!(
            labels.contains(&"enableEndpointPerReplica".to_owned()),
            "{labels:?}"
        );
        assert!(
            !labels.contains(&"enableMultiZone".to_owned()),
            "present key offered again"
        );
        // api-param item keys
        let text = SEED.replace(
            "        export: true\n  Replica:",
            "        export: true\n        li\n  Replica:",
        );
        let a = shared::analyze(&text);
        let (l, c) = pos(&text, "        li\n", 10);
        let labels: Vec<String> = complete(&text, &a, l, c)
            .into_iter()
            .map(|i| i.label)
            .collect();
        assert!(labels.contains(&"limits".to_owned()), "{labels:?}");
        assert!(!labels.contains(&"key".to_owned()), "{labels:?}");
    }

    #[test]
    fn completes_template_paths() {
        let text = SEED.replace(
            "MYSQL_REPLICATION_MODE=slave",
            "MYSQL_REPLICATION_MODE=$parameterGroup.var.",
        );
        let a = shared::analyze(&text);
        let (l, c) = pos(&text, "$parameterGroup.var.\n", 20);
        let labels: Vec<String> = complete(&text, &a, l, c)
            .into_iter()
            .map(|i| i.label)
            .collect();
        assert!(
            labels.contains(&"mysqlRootPassword".to_owned()),
            "{labels:?}"
        );
        let text = SEED.replace(
            "MYSQL_REPLICATION_MODE=slave",
            "MYSQL_REPLICATION_MODE=$master.sys.net",
        );
        let a = shared::analyze(&text);
        let (l, c) = pos(&text, "$master.sys.net\n", 15);
        let items = complete(&text, &a, l, c);
        assert!(items
            .iter()
            .any(|i| i.label == "network.externalClusterServerlessEndpoint.endpointName"));
        let text = SEED.replace("MYSQL_REPLICATION_MODE=slave", "MYSQL_REPLICATION_MODE=$");
        let a = shared::analyze(&text);
        let (l, c) = pos(&text, "=$\n", 2);
        let labels: Vec<String> = complete(&text, &a, l, c)
            .into_iter()
            .map(|i| i.label)
            .collect();
        assert!(
            labels.contains(&"master.".to_owned()) && labels.contains(&"sys.".to_owned()),
            "{labels:?}"
        );
    }

    #[test]
    fn var_completion_offers_the_current_services_params() {
        let text = SEED.replace(
            "MYSQL_REPLICATION_MODE=slave",
            "MYSQL_REPLICATION_MODE=$var.",
        );
        let a = shared::analyze(&text);
        let (l, c) = pos(&text, "=$var.\n", 6);
        let labels: Vec<String> = complete(&text, &a, l, c)
            .into_iter()
            .map(|i| i.label)
            .collect();
        assert!(labels.contains(&"numReadReplicas".to_owned()), "{labels:?}");
        assert!(
            !labels.contains(&"masterInstanceType".to_owned()),
            "{labels:?}"
        );
    }

    #[test]
    fn completes_api_param_keys_for_replica_count() {
        let text = SEED.replace(
            "replicaCountAPIParam: numReadReplicas",
            "replicaCountAPIParam: n",
        );
        let a = shared::analyze(&text);
        let (l, c) = pos(&text, "replicaCountAPIParam: n", 23);
        let labels: Vec<String> = complete(&text, &a, l, c)
            .into_iter()
            .map(|i| i.label)
            .collect();
        assert!(labels.contains(&"numReadReplicas".to_owned()), "{labels:?}");
    }
}

#[cfg(test)]
mod bench {
    #[test]
    #[ignore]
    fn time_analyze() {
        let seed = include_str!("../../examples/serverless-mysql-master-replica.yaml");
        let t = std::time::Instant::now();
        for _ in 0..200 {
            let a = shared::analyze(seed);
            std::hint::black_box(a);
        }
        eprintln!("analyze seed: {:?}/iter", t.elapsed() / 200);
        // 200 services: the seed with 197 more copies of `Replica`.
        let start = seed.find("  Replica:\n").unwrap();
        let end = seed.find("  ParameterGroup:\n").unwrap();
        let mut big = seed[..end].to_owned();
        for i in 2..199 {
            big.push_str(&seed[start..end].replacen(
                "  Replica:\n",
                &format!("  Replica{i}:\n"),
                1,
            ));
        }
        big.push_str(&seed[end..]);
        {
            let t = std::time::Instant::now();
            let (tree, _) = shared::syntax::parse(&big);
            eprintln!("parse big: {:?}", t.elapsed());
            let t = std::time::Instant::now();
            let spec = shared::Spec::read(&tree.unwrap());
            eprintln!("model big: {:?}", t.elapsed());
            let t = std::time::Instant::now();
            let _g = shared::Graph::build(&spec);
            eprintln!("graph big: {:?}", t.elapsed());
            let t = std::time::Instant::now();
            let a = shared::analyze(&big);
            eprintln!(
                "analyze big: {:?} ({} diagnostics)",
                t.elapsed(),
                a.diagnostics.len()
            );
            let t = std::time::Instant::now();
            let index = shared::LineIndex::new(&big);
            for d in &a.diagnostics {
                std::hint::black_box(index.range_utf16(&big, d.span));
            }
            eprintln!("ranges big: {:?}", t.elapsed());
        }
    }
}
