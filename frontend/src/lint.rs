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

// A text linted in the worker: the providers' snapshot is built from the
// editor's text on first use (hover, completion, fixes, share, deploy), off
// the keystroke path (no copy of the text per keystroke).
/// How to read the text on screen (the caller owns the editor).
type ReadText = fn() -> Option<String>;

thread_local! {
    /// Set while the text on screen was linted elsewhere: how to read it.
    static STALE: std::cell::Cell<Option<ReadText>> = const { std::cell::Cell::new(None) };
}

/// The text on screen was linted elsewhere; [`current`] analyses it when
/// asked, reading it with `read` (the caller owns the editor).
pub(crate) fn linted_elsewhere(read: ReadText) {
    STALE.with(|s| s.set(Some(read)));
}

fn refresh_stale() {
    if let Some(read) = STALE.with(|s| s.take()) {
        if let Some(text) = read() {
            let _ = run(&text);
        }
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

/// The page's view of one analysis (and, when asked, the quick fixes).
fn convert(
    text: &str,
    analysis: &Analysis,
    index: &LineIndex,
    want_fixes: bool,
) -> (Output, Vec<QuickFix>) {
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
        let marker = marker_of(text, index, d);
        let range = marker.range;
        if let (Some(fix), true) = (&d.fix, want_fixes) {
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
    let output = Output {
        markers,
        problems,
        counts,
        graph: graph_data(analysis),
        parsed: analysis.parsed,
    };
    (output, fixes)
}

/// Lint `text` and remember the result for the providers.
pub(crate) fn run(text: &str) -> Output {
    STALE.with(|s| s.set(None));
    let analysis = shared::analyze(text);
    let index = LineIndex::new(text);
    let (output, fixes) = convert(text, &analysis, &index, true);
    let snapshot = Rc::new(Snapshot {
        text: text.to_owned(),
        analysis,
        fixes,
        index,
    });
    if output.parsed {
        LAST_PARSED.with(|c| *c.borrow_mut() = Some(snapshot.clone()));
    }
    CURRENT.with(|c| *c.borrow_mut() = Some(snapshot));
    output
}

/// In the lint worker: lint `text` and answer the markers (as Monaco takes
/// them) and the rest of the page's view, as two JSON texts joined by a
/// newline (compact JSON has none). No snapshot, no fixes: the page builds
/// those itself when a provider asks.
pub(crate) fn worker_parts(text: &str) -> String {
    let analysis = shared::analyze(text);
    let index = LineIndex::new(text);
    let (output, _) = convert(text, &analysis, &index, false);
    let mut out = serde_json::to_string(&output.markers).expect("markers serialize");
    out.push('\n');
    out.push_str(&output.view_json());
    out
}

// --- The worker's answer: `Output` apart from its markers, as JSON, and back. ---

fn range_array(r: &MonacoRange) -> [u32; 4] {
    [
        r.start_line_number,
        r.start_column,
        r.end_line_number,
        r.end_column,
    ]
}

fn range_from(r: [u32; 4]) -> MonacoRange {
    MonacoRange {
        start_line_number: r[0],
        start_column: r[1],
        end_line_number: r[2],
        end_column: r[3],
    }
}

/// The `&'static str` a code or kind names (codes come from the rule registry).
fn intern(code: &str, known: &[&'static str]) -> &'static str {
    shared::rules::find(code)
        .map(|r| r.meta().code)
        .or_else(|| known.iter().copied().find(|k| *k == code))
        .unwrap_or("?")
}

/// One Problems row on the wire: (code, severity, message, help, range, fix).
type ProblemWire<S> = (S, S, S, Option<S>, [u32; 4], Option<S>);
/// One graph node: (id, passive, image, errors, warnings).
type NodeWire<S> = (S, bool, Option<S>, usize, usize);
/// One graph edge: (from, to, kind, via, cycle).
type EdgeWire<S> = (S, S, S, S, bool);

#[derive(serde::Serialize, serde::Deserialize)]
struct ViewWire<S> {
    problems: Vec<ProblemWire<S>>,
    counts: [usize; 3],
    nodes: Vec<NodeWire<S>>,
    edges: Vec<EdgeWire<S>>,
    parsed: bool,
}

impl Output {
    /// JSON of everything but the markers (which go to Monaco as they are).
    pub(crate) fn view_json(&self) -> String {
        let wire: ViewWire<&str> = ViewWire {
            problems: self
                .problems
                .iter()
                .map(|p| {
                    (
                        p.code,
                        p.severity.as_str(),
                        p.message.as_str(),
                        p.help.as_deref(),
                        range_array(&p.range),
                        p.fix.as_deref(),
                    )
                })
                .collect(),
            counts: [self.counts.errors, self.counts.warnings, self.counts.infos],
            nodes: self
                .graph
                .nodes
                .iter()
                .map(|n| {
                    (
                        n.id.as_str(),
                        n.passive,
                        n.image.as_deref(),
                        n.errors,
                        n.warnings,
                    )
                })
                .collect(),
            edges: self
                .graph
                .edges
                .iter()
                .map(|e| {
                    (
                        e.from.as_str(),
                        e.to.as_str(),
                        e.kind,
                        e.via.as_str(),
                        e.cycle,
                    )
                })
                .collect(),
            parsed: self.parsed,
        };
        serde_json::to_string(&wire).expect("view serializes")
    }

    /// The inverse of [`Output::view_json`] (markers left empty).
    pub(crate) fn from_view_json(text: &str) -> Option<Output> {
        let wire: ViewWire<String> = serde_json::from_str(text).ok()?;
        let kinds = ["resource-link", "reference", "depends-on"];
        Some(Output {
            markers: Vec::new(),
            problems: wire
                .problems
                .into_iter()
                .map(|(code, severity, message, help, range, fix)| Problem {
                    code: intern(&code, &[]),
                    severity: match severity.as_str() {
                        "error" => Severity::Error,
                        "warning" => Severity::Warning,
                        _ => Severity::Info,
                    },
                    message,
                    help,
                    range: range_from(range),
                    fix,
                })
                .collect(),
            counts: Counts {
                errors: wire.counts[0],
                warnings: wire.counts[1],
                infos: wire.counts[2],
            },
            graph: GraphData {
                nodes: wire
                    .nodes
                    .into_iter()
                    .map(|(id, passive, image, errors, warnings)| GraphNode {
                        id,
                        passive,
                        image,
                        errors,
                        warnings,
                    })
                    .collect(),
                edges: wire
                    .edges
                    .into_iter()
                    .map(|(from, to, kind, via, cycle)| GraphEdge {
                        from,
                        to,
                        kind: intern(&kind, &kinds),
                        via,
                        cycle,
                    })
                    .collect(),
            },
            parsed: wire.parsed,
        })
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
