//! specstudio's spec core: parse a service spec with exact spans, validate it,
//! and derive its resource dependency graph.
//!
//! No I/O happens here: the same code runs in the CLI, the server and, compiled
//! to wasm32, in the browser editor.
//!
//! ```
//! let analysis = shared::analyze("services:\n  Web:\n    image: nginx\n");
//! assert_eq!(analysis.summary().errors, 0);
//! ```

pub mod config;
pub mod diagnostic;
pub mod docker_verdicts;
pub mod docs;
pub mod exposed;
pub mod extends_file;
pub mod external;
pub mod graph;
pub mod ide;
pub mod image_ref;
pub mod images;
mod include;
pub mod instance_types;
pub mod interpolation;
pub mod limits;
pub mod model;
pub mod output;
pub mod params;
pub mod redact;
pub mod resolve;
pub mod rules;
pub mod span;
pub mod syntax;
pub mod system_parameters;
pub mod template;
pub mod units;
pub mod wire;

pub use diagnostic::{Diagnostic, Fix, Severity, Summary, TextEdit};
pub use graph::Graph;
pub use model::Spec;
pub use span::{LineIndex, Span};

/// Everything known about one spec text.
#[derive(Clone, Debug)]
pub struct Analysis {
    pub tree: syntax::Tree,
    /// Whether the YAML could be read at all.
    pub parsed: bool,
    pub spec: Spec,
    pub graph: Graph,
    pub diagnostics: Vec<Diagnostic>,
}

impl Analysis {
    pub fn summary(&self) -> Summary {
        Summary::of(&self.diagnostics)
    }

    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// What the caller knows beyond the text (the CLI fills it; `shared` does no I/O).
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Interpolation variables (`--env-file`, `.env`, `--env`); unknown by default.
    pub vars: interpolation::Vars,
    /// Project settings (`specstudio.toml`): rule severities, rules turned off.
    pub config: config::Config,
    /// Texts of the files the spec names in `include` and `extends.file`,
    /// keyed by the path as written (see [`external::referenced_files`]).
    pub files: std::collections::BTreeMap<String, String>,
    /// Files named in `extends.file` or `include` that the caller could not
    /// read, with why (a located C016 / C025 error, as compose refuses the
    /// spec).
    pub unreadable: std::collections::BTreeMap<String, String>,
}

/// Parse, model, graph and validate a spec.
pub fn analyze(text: &str) -> Analysis {
    analyze_with(text, &Options::default())
}

/// [`analyze`] with interpolation variables and project settings.
pub fn analyze_with(text: &str, options: &Options) -> Analysis {
    analyze_limited(text, options, &limits::Limits::NONE)
}

/// [`analyze_with`] within `limits` (the server's bounds on untrusted
/// input): a spec over the work budget is not parsed and gets one located
/// error; past the diagnostics cap the rest are counted into one summary.
pub fn analyze_limited(text: &str, options: &Options, limits: &limits::Limits) -> Analysis {
    if let Some(at) = limits
        .max_work
        .and_then(|max| limits::over_budget(text, max).map(|at| (at, max)))
    {
        let tree = syntax::Tree::default();
        let spec = Spec::read_with(&tree, &options.vars);
        return Analysis {
            graph: Graph::build(&spec),
            tree,
            parsed: false,
            spec,
            diagnostics: vec![limits::too_much_work(text, at.0, at.1)],
        };
    }
    analyze_parsed(text, options, limits, None)
}

/// What a layered text carries: where the appended documents start, the
/// `extends.file` bases and the `include`s that could not be followed.
type Layered = (
    usize,
    Vec<extends_file::BaseError>,
    Vec<extends_file::BaseError>,
);

/// Parse and judge `text`. `layered`: the text has `extends.file` bases and
/// included resources appended from this offset on, already followed, with
/// what could not be (`None` for a text as written).
fn analyze_parsed(
    text: &str,
    options: &Options,
    limits: &limits::Limits,
    layered: Option<Layered>,
) -> Analysis {
    let bases_from = layered.as_ref().map_or(usize::MAX, |(at, _, _)| *at);
    let syntax::Parsed {
        tree,
        problems: yaml_problems,
        blanked,
    } = syntax::parse_recovering_layered(text, bases_from);
    let parsed = tree.is_some() && blanked.is_empty();
    let tree = tree.unwrap_or_default();
    let spec = Spec::read_with(&tree, &options.vars);
    let (layers, extends_errors, include_errors) = match layered {
        // Without files to follow (the page), nothing is appended.
        None if !cfg!(feature = "files") => Default::default(),
        None => {
            let (mut layers, extends_errors) =
                extends_file::plan(text, &tree, &spec, &options.files, &options.unreadable);
            let include_errors = include::plan(
                text,
                &tree,
                &options.files,
                &options.unreadable,
                &options.vars,
                &mut layers,
            );
            (layers, extends_errors, include_errors)
        }
        // Followed already; the errors sit on the text's own tokens, which
        // the appending keeps where they are.
        Some((_, extends, include)) => (Default::default(), extends, include),
    };
    if !layers.is_empty() {
        // Judge the text with its bases appended (each base a document
        // merged under the text's own), and keep this text's tree and model
        // for the editor.
        let layered = format!("{text}{}", layers.suffix);
        let inner = analyze_parsed(
            &layered,
            options,
            limits,
            Some((text.len(), extends_errors, include_errors)),
        );
        let mut diagnostics = layers.map(text.len(), inner.diagnostics);
        diagnostics.sort_by_key(|d| (d.span.start, d.span.end));
        fit_spans(text, &mut diagnostics);
        let graph = Graph::build(&spec);
        return Analysis {
            tree,
            parsed,
            spec,
            graph,
            diagnostics,
        };
    }
    let graph = Graph::build(&spec);
    let mut external = external::External::read(&tree, &options.files);
    external.extends_errors = extends_errors;
    external.include_errors = include_errors;
    // The rules judge each service with what it inherits through `extends`.
    let merged = spec.with_extends_merged();
    let ctx = rules::Context {
        text,
        tree: &tree,
        spec: merged.as_ref().unwrap_or(&spec),
        graph: &graph,
        yaml_problems: &yaml_problems,
        vars: &options.vars,
        external: &external,
        nested: Default::default(),
        secret_names: Default::default(),
        mysql_services: Default::default(),
    };
    let (mut diagnostics, overflow) = rules::run_limited(&ctx, limits);
    if !blanked.is_empty() {
        // Blocks left out after a syntax error would make references to what
        // they defined look wrong: keep only findings that stand on their own.
        diagnostics.retain(|d| !CROSS_REFERENCE_RULES.contains(&d.code));
        // What sits on a rewritten line (tabs read as spaces) was read by a
        // guess: only the YAML findings there stand.
        diagnostics.retain(|d| {
            d.code.starts_with('Y')
                || !blanked
                    .iter()
                    .any(|b| b.start <= d.span.end && d.span.start <= b.end)
        });
    }
    config::apply(text, &options.config, &mut diagnostics);
    if let Some(more) = overflow.and_then(|o| o.summary()) {
        diagnostics.push(more);
    }
    fit_spans(text, &mut diagnostics);
    Analysis {
        tree,
        parsed,
        spec,
        graph,
        diagnostics,
    }
}

/// Every span a diagnostic carries (its own, related ones, fix edits) must
/// slice the text: the one place that guarantees it. A span that does not
/// fit is a bug upstream (debug builds and the fuzz tests stop on it); in a
/// release build it is widened to the characters it touches, not passed on
/// to a renderer or editor that would panic slicing it.
fn fit_spans(text: &str, diagnostics: &mut [Diagnostic]) {
    let fit = |span: &mut Span, what: &str, code: &str| {
        debug_assert!(
            span.fits(text),
            "{code}: {what} span {span:?} is not on character boundaries"
        );
        *span = span.snapped(text);
    };
    for d in diagnostics {
        fit(&mut d.span, "the", d.code);
        for related in &mut d.related {
            fit(&mut related.span, "a related", d.code);
        }
        for edit in d.fix.iter_mut().flat_map(|f| f.edits.iter_mut()) {
            fit(&mut edit.span, "a fix's", d.code);
        }
    }
}

/// Rules whose findings depend on other parts of the document (a reference to
/// a service, volume, network or parameter defined elsewhere, or the whole
/// document's shape): silenced when a syntax error left a block out.
const CROSS_REFERENCE_RULES: &[&str] = &[
    "C006", "C007", "C008", "C010", "C012", "C013", "O019", "O020", "O026", "T001", "T002", "T003",
    "T007", "T008", "M002", "M003", "M006", "M007",
];

/// Only the diagnostics.
pub fn check(text: &str) -> Vec<Diagnostic> {
    analyze(text).diagnostics
}
