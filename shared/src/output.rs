//! Renderings of diagnostics and graphs: human text, JSON, SARIF, DOT, Mermaid.
//!
//! Pure string building (no I/O), shared by the CLI, the server and the page so
//! that `specstudio lint --format json` and the browser produce the same bytes.

use serde::Serialize;

use crate::diagnostic::{Diagnostic, Summary};
use crate::graph::Graph;
use crate::rules;
use crate::span::{LineIndex, Range};

/// One diagnostic as `--format json` prints it.
#[derive(Clone, Debug, Serialize)]
pub struct JsonDiagnostic {
    pub code: &'static str,
    pub severity: &'static str,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    pub path: String,
    pub range: Range,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<JsonFix>,
}

#[derive(Clone, Debug, Serialize)]
pub struct JsonFix {
    pub title: String,
    pub edits: Vec<JsonEdit>,
}

#[derive(Clone, Debug, Serialize)]
pub struct JsonEdit {
    pub range: Range,
    #[serde(rename = "newText")]
    pub new_text: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct JsonFile {
    pub path: String,
    pub diagnostics: Vec<JsonDiagnostic>,
}

#[derive(Clone, Debug, Serialize)]
pub struct JsonReport {
    pub files: Vec<JsonFile>,
    pub summary: Summary,
}

impl JsonReport {
    pub fn new(files: Vec<JsonFile>) -> Self {
        let mut summary = Summary::default();
        for file in &files {
            for d in &file.diagnostics {
                summary.add(match d.severity {
                    "error" => crate::Severity::Error,
                    "warning" => crate::Severity::Warning,
                    _ => crate::Severity::Info,
                });
            }
        }
        JsonReport { files, summary }
    }
}

/// Convert one file's diagnostics to the JSON shape (1-based lines, columns in
/// Unicode scalar values).
pub fn json_file(path: &str, text: &str, diagnostics: &[Diagnostic]) -> JsonFile {
    let index = LineIndex::new(text);
    JsonFile {
        path: path.to_owned(),
        diagnostics: diagnostics
            .iter()
            .map(|d| JsonDiagnostic {
                code: d.code,
                severity: d.severity.as_str(),
                message: d.message.clone(),
                help: d.help.clone(),
                path: d.path.clone(),
                range: index.range(text, d.span),
                fix: d.fix.as_ref().map(|fix| JsonFix {
                    title: fix.title.clone(),
                    edits: fix
                        .edits
                        .iter()
                        .map(|e| JsonEdit {
                            range: index.range(text, e.span),
                            new_text: e.replacement.clone(),
                        })
                        .collect(),
                }),
            })
            .collect(),
    }
}

/// The JSON report for one spec.
pub fn json_report(path: &str, text: &str, diagnostics: &[Diagnostic]) -> JsonReport {
    JsonReport::new(vec![json_file(path, text, diagnostics)])
}

/// The JSON report for one spec, as a string (what `POST /api/validate` answers
/// and what the wasm build returns).
pub fn json_report_string(path: &str, text: &str, diagnostics: &[Diagnostic]) -> String {
    serde_json::to_string(&json_report(path, text, diagnostics)).expect("report serializes")
}

/// rustc-style rendering: header, location, the source line, carets, help.
pub fn human(path: &str, text: &str, diagnostics: &[Diagnostic]) -> String {
    let index = LineIndex::new(text);
    let mut out = String::new();
    for d in diagnostics {
        let start = index.position(text, d.span.start);
        let line = index.line_of(d.span.start);
        let line_span = index.line_span(text, line);
        let source_line = &text[line_span.start..line_span.end];
        let from = d.span.start.clamp(line_span.start, line_span.end);
        let to = d.span.end.clamp(from, line_span.end);
        let caret_start = text[line_span.start..from].chars().count();
        let caret_len = text[from..to].chars().count().max(1);
        let gutter = start.line.to_string().len();
        let pad = " ".repeat(gutter);
        out.push_str(&format!(
            "{}[{}]: {}\n",
            d.severity.as_str(),
            d.code,
            d.message
        ));
        out.push_str(&format!(
            "{pad}--> {path}:{}:{}\n",
            start.line, start.column
        ));
        out.push_str(&format!("{pad} |\n"));
        out.push_str(&format!(
            "{} | {}\n",
            start.line,
            source_line.replace('\t', " ")
        ));
        out.push_str(&format!(
            "{pad} | {}{}\n",
            " ".repeat(caret_start),
            "^".repeat(caret_len)
        ));
        for related in &d.related {
            let at = index.position(text, related.span.start);
            out.push_str(&format!(
                "{pad} = note: {} ({path}:{}:{})\n",
                related.message, at.line, at.column
            ));
        }
        if let Some(help) = &d.help {
            out.push_str(&format!("{pad} = help: {help}\n"));
        }
        if let Some(fix) = &d.fix {
            out.push_str(&format!("{pad} = fix: {}\n", fix.title));
        }
        out.push('\n');
    }
    out
}

/// One line per summary, as printed after human output.
pub fn summary_line(summary: Summary) -> String {
    format!(
        "{} error{}, {} warning{}, {} info{}",
        summary.errors,
        if summary.errors == 1 { "" } else { "s" },
        summary.warnings,
        if summary.warnings == 1 { "" } else { "s" },
        summary.infos,
        if summary.infos == 1 { "" } else { "s" },
    )
}

/// SARIF 2.1.0 for code-scanning tools.
pub fn sarif(files: &[(&str, &str, &[Diagnostic])]) -> serde_json::Value {
    let rules: Vec<serde_json::Value> = rules::all()
        .map(|r| {
            let meta = r.meta();
            serde_json::json!({
                "id": meta.code,
                "name": meta.name,
                "shortDescription": {"text": meta.summary},
                "fullDescription": {"text": rules::docs_markdown(meta)},
                "help": {"text": meta.help},
                "defaultConfiguration": {"level": sarif_level(meta.severity)},
            })
        })
        .collect();
    let mut results = Vec::new();
    for (path, text, diagnostics) in files {
        let index = LineIndex::new(text);
        for d in diagnostics.iter() {
            let range = index.range(text, d.span);
            results.push(serde_json::json!({
                "ruleId": d.code,
                "level": sarif_level(d.severity),
                "message": {"text": d.message},
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": {"uri": path},
                        "region": {
                            "startLine": range.start.line,
                            "startColumn": range.start.column,
                            "endLine": range.end.line,
                            "endColumn": range.end.column,
                        }
                    },
                    "logicalLocations": [{"fullyQualifiedName": d.path}],
                }],
            }));
        }
    }
    serde_json::json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "specstudio", "informationUri": "https://example.invalid/specstudio", "rules": rules}},
            "results": results,
        }],
    })
}

fn sarif_level(severity: crate::Severity) -> &'static str {
    match severity {
        crate::Severity::Error => "error",
        crate::Severity::Warning => "warning",
        crate::Severity::Info => "note",
    }
}

/// Graphviz DOT.
pub fn dot(graph: &Graph) -> String {
    let mut out =
        String::from("digraph spec {\n  rankdir=LR;\n  node [fontname=\"sans-serif\"];\n");
    for node in &graph.nodes {
        let shape = match node.kind {
            crate::graph::ResourceKind::Compute => "box",
            crate::graph::ResourceKind::Passive => "note",
        };
        out.push_str(&format!("  {} [shape={shape}];\n", dot_id(&node.id)));
    }
    for edge in &graph.edges {
        let style = match edge.kind {
            crate::graph::EdgeKind::ResourceLink => "solid",
            crate::graph::EdgeKind::Reference => "dashed",
            crate::graph::EdgeKind::DependsOn => "dotted",
        };
        let color = if edge.cycle { ", color=red" } else { "" };
        out.push_str(&format!(
            "  {} -> {} [label={}, style={style}{color}];\n",
            dot_id(&edge.from),
            dot_id(&edge.to),
            dot_id(&format!("{}: {}", edge.kind.as_str(), edge.via)),
        ));
    }
    out.push_str("}\n");
    out
}

fn dot_id(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Mermaid flowchart.
pub fn mermaid(graph: &Graph) -> String {
    let mut out = String::from("flowchart LR\n");
    let id = |name: &str| -> String {
        let index = graph.nodes.iter().position(|n| n.id == name).unwrap_or(0);
        format!("n{index}")
    };
    for (i, node) in graph.nodes.iter().enumerate() {
        let label = mermaid_text(&node.id);
        match node.kind {
            crate::graph::ResourceKind::Compute => out.push_str(&format!("  n{i}[\"{label}\"]\n")),
            crate::graph::ResourceKind::Passive => {
                out.push_str(&format!("  n{i}[(\"{label}\")]\n"))
            }
        }
    }
    for edge in &graph.edges {
        let arrow = match edge.kind {
            crate::graph::EdgeKind::ResourceLink => "-->",
            crate::graph::EdgeKind::Reference => "-.->",
            crate::graph::EdgeKind::DependsOn => "==>",
        };
        out.push_str(&format!(
            "  {} {arrow}|\"{}: {}\"| {}\n",
            id(&edge.from),
            edge.kind.as_str(),
            mermaid_text(&edge.via),
            id(&edge.to)
        ));
    }
    out
}

fn mermaid_text(text: &str) -> String {
    text.replace('"', "#quot;")
}
