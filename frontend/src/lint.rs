//! Lint in the page: run `shared::analyze` on the text, turn diagnostics into
//! Monaco markers (UTF-16 columns), Problems rows, counts and graph data.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use shared::graph::{EdgeKind, ResourceKind};
use shared::{Analysis, LineIndex, Severity};

use crate::monaco::{severity, Marker, MonacoRange, QuickFix};

/// One row of the Problems list.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Problem {
    pub code: &'static str,
    pub severity: Severity,
    pub message: String,
    pub help: Option<String>,
    pub range: MonacoRange,
    pub fix: Option<String>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Counts {
    pub errors: usize,
    pub warnings: usize,
    pub infos: usize,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct GraphNode {
    pub id: String,
    pub passive: bool,
    pub image: Option<String>,
    pub errors: usize,
    pub warnings: usize,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct GraphEdge {
    pub from: String,
    pub to: String,
    pub kind: &'static str,
    pub via: String,
    pub cycle: bool,
}

/// The graph without spans: equal across edits that do not change it, so the
/// panel does not redraw (or move) while typing elsewhere.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct GraphData {
    pub nodes: Vec<GraphNode>,
    pub edges: Vec<GraphEdge>,
}

/// The latest lint, kept for the Monaco providers (hover, completion, fixes).
pub(crate) struct Snapshot {
    pub text: String,
    pub analysis: Analysis,
    pub fixes: Vec<QuickFix>,
    pub index: LineIndex,
}

thread_local! {
    static CURRENT: RefCell<Option<Rc<Snapshot>>> = const { RefCell::new(None) };
    /// The last text that parsed as YAML: completion uses its services and
    /// params while the text under the cursor is half-typed.
    static LAST_PARSED: RefCell<Option<Rc<Snapshot>>> = const { RefCell::new(None) };
}

pub(crate) fn current() -> Option<Rc<Snapshot>> {
    refresh_stale();
    CURRENT.with(|c| c.borrow().clone())
}

pub(crate) fn last_parsed() -> Option<Rc<Snapshot>> {
    refresh_stale();
    LAST_PARSED.with(|c| c.borrow().clone()).or_else(current)
}

/// What one lint produced for the page.
pub(crate) struct Output {
    pub markers: Vec<Marker>,
    pub problems: Vec<Problem>,
    pub counts: Counts,
    pub graph: GraphData,
    /// Whether the YAML could be read (a syntax error leaves no graph).
    pub parsed: bool,
}

fn marker_severity(s: Severity) -> u8 {
    match s {
        Severity::Error => severity::ERROR,
        Severity::Warning => severity::WARNING,
        Severity::Info => severity::INFO,
    }
}

// A text linted in the worker: the providers' snapshot is built from it on
// first use (hover, completion, fixes, share, deploy), off the keystroke path.
thread_local! {
    static STALE: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Remember `text` as linted elsewhere; [`current`] analyses it when asked.
pub(crate) fn linted_elsewhere(text: String) {
    STALE.with(|s| *s.borrow_mut() = Some(text));
}

fn refresh_stale() {
    if let Some(text) = STALE.with(|s| s.borrow_mut().take()) {
        let _ = run(&text);
    }
}

/// The Monaco marker of one finding.
fn marker_of(text: &str, index: &LineIndex, d: &shared::Diagnostic) -> Marker {
    let mut range = MonacoRange::from_range(index.range_utf16(text, d.span));
    if range.start_line_number == range.end_line_number && range.start_column == range.end_column {
        // An empty span still gets a visible squiggle.
        range.end_column += 1;
    }
    Marker {
        severity: marker_severity(d.severity),
        message: match &d.help {
            Some(help) => format!("{}\n{help}", d.message),
            None => d.message.clone(),
        },
        code: d.code.to_owned(),
        source: "specstudio",
        range,
    }
}

/// Lint `text` and remember the result for the providers.
pub(crate) fn run(text: &str) -> Output {
    STALE.with(|s| s.borrow_mut().take());
    let analysis = shared::analyze(text);
    let index = LineIndex::new(text);
    let mut markers = Vec::with_capacity(analysis.diagnostics.len());
    let mut problems = Vec::with_capacity(analysis.diagnostics.len());
    let mut fixes = Vec::new();
    let mut counts = Counts::default();
    for d in &analysis.diagnostics {
        match d.severity {
            Severity::Error => counts.errors += 1,
            Severity::Warning => counts.warnings += 1,
            Severity::Info => counts.infos += 1,
        }
        let marker = marker_of(text, &index, d);
        let range = marker.range;
        if let Some(fix) = &d.fix {
            fixes.push(QuickFix {
                title: fix.title.clone(),
                edits: fix
                    .edits
                    .iter()
                    .map(|e| {
                        (
                            MonacoRange::from_range(index.range_utf16(text, e.span)),
                            e.replacement.clone(),
                        )
                    })
                    .collect(),
                marker: marker.clone(),
                preferred: true,
            });
        }
        problems.push(Problem {
            code: d.code,
            severity: d.severity,
            message: d.message.clone(),
            help: d.help.clone(),
            range,
            fix: d.fix.as_ref().map(|f| f.title.clone()),
        });
        markers.push(marker);
    }
    let graph = graph_data(&analysis);
    let parsed = analysis.parsed;
    let snapshot = Rc::new(Snapshot {
        text: text.to_owned(),
        analysis,
        fixes,
        index,
    });
    if parsed {
        LAST_PARSED.with(|c| *c.borrow_mut() = Some(snapshot.clone()));
    }
    CURRENT.with(|c| *c.borrow_mut() = Some(snapshot));
    Output {
        markers,
        problems,
        counts,
        graph,
        parsed,
    }
}

// --- The worker's answer: `Output` as JSON, and back. ---

fn range_json(r: &MonacoRange) -> serde_json::Value {
    serde_json::json!([
        r.start_line_number,
        r.start_column,
        r.end_line_number,
        r.end_column
    ])
}

fn range_from(v: &serde_json::Value) -> MonacoRange {
    let n = |i: usize| v.get(i).and_then(serde_json::Value::as_u64).unwrap_or(1) as u32;
    MonacoRange {
        start_line_number: n(0),
        start_column: n(1),
        end_line_number: n(2),
        end_column: n(3),
    }
}

/// The `&'static str` a code or kind names (codes come from the rule registry).
fn intern(code: &str, known: &[&'static str]) -> &'static str {
    shared::rules::find(code)
        .map(|r| r.meta().code)
        .or_else(|| known.iter().copied().find(|k| *k == code))
        .unwrap_or("?")
}

impl Output {
    /// JSON for the trip from the worker (markers as Monaco takes them).
    pub(crate) fn to_json(&self) -> String {
        let problems: Vec<serde_json::Value> = self
            .problems
            .iter()
            .map(|p| {
                serde_json::json!({"code": p.code, "severity": p.severity.as_str(), "message": p.message,
                    "help": p.help, "range": range_json(&p.range), "fix": p.fix})
            })
            .collect();
        let nodes: Vec<serde_json::Value> = self
            .graph
            .nodes
            .iter()
            .map(|n| serde_json::json!([n.id, n.passive, n.image, n.errors, n.warnings]))
            .collect();
        let edges: Vec<serde_json::Value> = self
            .graph
            .edges
            .iter()
            .map(|e| serde_json::json!([e.from, e.to, e.kind, e.via, e.cycle]))
            .collect();
        serde_json::json!({
            "markers": self.markers, "problems": problems,
            "counts": [self.counts.errors, self.counts.warnings, self.counts.infos],
            "nodes": nodes, "edges": edges, "parsed": self.parsed,
        })
        .to_string()
    }

    /// The inverse of [`Output::to_json`]; the markers stay JSON (they go to Monaco as they are).
    pub(crate) fn from_json(text: &str) -> Option<(Output, serde_json::Value)> {
        let mut v: serde_json::Value = serde_json::from_str(text).ok()?;
        let markers = v.get_mut("markers")?.take();
        let str_of =
            |v: &serde_json::Value, k: &str| v.get(k).and_then(|s| s.as_str()).map(str::to_owned);
        let problems = v
            .get("problems")?
            .as_array()?
            .iter()
            .map(|p| Problem {
                code: intern(&str_of(p, "code").unwrap_or_default(), &[]),
                severity: match p.get("severity").and_then(|s| s.as_str()) {
                    Some("error") => Severity::Error,
                    Some("warning") => Severity::Warning,
                    _ => Severity::Info,
                },
                message: str_of(p, "message").unwrap_or_default(),
                help: str_of(p, "help"),
                range: range_from(&p["range"]),
                fix: str_of(p, "fix"),
            })
            .collect();
        let count = |i: usize| v["counts"].get(i).and_then(|c| c.as_u64()).unwrap_or(0) as usize;
        let counts = Counts {
            errors: count(0),
            warnings: count(1),
            infos: count(2),
        };
        let s = |n: &serde_json::Value, i: usize| {
            n.get(i).and_then(|x| x.as_str()).unwrap_or("").to_owned()
        };
        let u = |n: &serde_json::Value, i: usize| {
            n.get(i).and_then(|x| x.as_u64()).unwrap_or(0) as usize
        };
        let b =
            |n: &serde_json::Value, i: usize| n.get(i).and_then(|x| x.as_bool()).unwrap_or(false);
        let nodes = v["nodes"]
            .as_array()?
            .iter()
            .map(|n| GraphNode {
                id: s(n, 0),
                passive: b(n, 1),
                image: n.get(2).and_then(|x| x.as_str()).map(str::to_owned),
                errors: u(n, 3),
                warnings: u(n, 4),
            })
            .collect();
        let kinds = ["resource-link", "reference", "depends-on"];
        let edges = v["edges"]
            .as_array()?
            .iter()
            .map(|e| GraphEdge {
                from: s(e, 0),
                to: s(e, 1),
                kind: intern(&s(e, 2), &kinds),
                via: s(e, 3),
                cycle: b(e, 4),
            })
            .collect();
        let output = Output {
            markers: Vec::new(),
            problems,
            counts,
            graph: GraphData { nodes, edges },
            parsed: v["parsed"].as_bool().unwrap_or(false),
        };
        Some((output, markers))
    }
}

fn graph_data(analysis: &Analysis) -> GraphData {
    // Errors and warnings per service, from each diagnostic's JSON path
    // (`/services/<escaped name>/…`): one pass over the diagnostics.
    let mut per_service: HashMap<&str, (usize, usize)> = HashMap::new();
    for d in &analysis.diagnostics {
        let Some(rest) = d.path.strip_prefix("/services/") else {
            continue;
        };
        let segment = rest.split('/').next().unwrap_or(rest);
        let counts = per_service.entry(segment).or_default();
        match d.severity {
            Severity::Error => counts.0 += 1,
            Severity::Warning => counts.1 += 1,
            Severity::Info => {}
        }
    }
    let nodes = analysis
        .graph
        .nodes
        .iter()
        .map(|n| {
            let segment = n.id.replace('~', "~0").replace('/', "~1");
            let (errors, warnings) = per_service
                .get(segment.as_str())
                .copied()
                .unwrap_or_default();
            GraphNode {
                id: n.id.clone(),
                passive: n.kind == ResourceKind::Passive,
                image: n.image.clone(),
                errors,
                warnings,
            }
        })
        .collect();
    let edges = analysis
        .graph
        .edges
        .iter()
        .map(|e| GraphEdge {
            from: e.from.clone(),
            to: e.to.clone(),
            kind: EdgeKind::as_str(e.kind),
            via: e.via.clone(),
            cycle: e.cycle,
        })
        .collect();
    GraphData { nodes, edges }
}

/// Quick fixes whose marker touches `range`: the rules' own fixes first, then
/// "Ignore CODE here" (a `# specstudio-ignore: CODE` comment) for each finding.
pub(crate) fn fixes_for(range: MonacoRange) -> Vec<QuickFix> {
    let Some(snapshot) = current() else {
        return Vec::new();
    };
    let key = |line: u32, col: u32| (line, col);
    let mut out: Vec<QuickFix> = snapshot
        .fixes
        .iter()
        .filter(|f| {
            let m = f.marker.range;
            key(m.start_line_number, m.start_column) <= key(range.end_line_number, range.end_column)
                && key(range.start_line_number, range.start_column)
                    <= key(m.end_line_number, m.end_column)
        })
        .cloned()
        .collect();
    let (text, analysis) = (&snapshot.text, &snapshot.analysis);
    let position = |line: u32, column: u32| shared::span::Position {
        line: line as usize,
        column: column as usize,
    };
    let wanted = shared::span::Range {
        start: position(range.start_line_number, range.start_column),
        end: position(range.end_line_number, range.end_column),
    };
    for action in crate::language::ignore_actions(text, analysis, wanted) {
        let Some(d) = analysis.diagnostics.get(action.diagnostic) else {
            continue;
        };
        out.push(QuickFix {
            title: action.title,
            edits: action
                .edits
                .into_iter()
                .map(|(r, t)| (MonacoRange::from_range(r), t))
                .collect(),
            marker: marker_of(text, &snapshot.index, d),
            preferred: false,
        });
    }
    out
}

/// The editor range of a service's name (graph click → reveal).
pub(crate) fn service_range(name: &str) -> Option<MonacoRange> {
    let snapshot = current()?;
    let span = crate::language::service_span(&snapshot.analysis, name)?;
    Some(MonacoRange::from_range(
        snapshot.index.range_utf16(&snapshot.text, span),
    ))
}
