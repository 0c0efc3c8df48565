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

pub mod compose_keys;
pub mod diagnostic;
pub mod exposed;
pub mod graph;
pub mod image_ref;
pub mod instance_types;
pub mod model;
pub mod output;
pub mod params;
pub mod redact;
pub mod resolve;
pub mod rules;
pub mod span;
pub mod syntax;
pub mod template;

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

/// Parse, model, graph and validate a spec.
pub fn analyze(text: &str) -> Analysis {
    let (tree, yaml_problems) = syntax::parse(text);
    let parsed = tree.is_some();
    let tree = tree.unwrap_or_default();
    let spec = Spec::read(&tree);
    let graph = Graph::build(&spec);
    let ctx = rules::Context {
        text,
        tree: &tree,
        spec: &spec,
        graph: &graph,
        yaml_problems: &yaml_problems,
    };
    let diagnostics = rules::run(&ctx);
    Analysis {
        tree,
        parsed,
        spec,
        graph,
        diagnostics,
    }
}

/// Only the diagnostics.
pub fn check(text: &str) -> Vec<Diagnostic> {
    analyze(text).diagnostics
}
