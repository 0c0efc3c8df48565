use crate::declare_rule;
use crate::diagnostic::Severity;
use crate::rules::{Context, Rule, Sink};
use crate::syntax::{YamlProblemKind, MAX_MERGED_DOCUMENTS};

declare_rule! {
    /// ## What
    /// The file holds more than one YAML document (`---`). Like compose
    /// (compose-go reads each document as a layer, as with `-f a -f b`), the
    /// documents are merged in order and the merge is what the other rules
    /// judge: mappings key by key, lists appended (one item per identity),
    /// `command`/`entrypoint` replaced, `!reset`/`!override` honoured. A
    /// document that is not a mapping is refused (C013). Past
    /// 256 documents the rest are not read (a warning).
    ///
    /// ## Why
    /// A file that `compose publish` packed, or layers someone joined with
    /// `---`, is one project to compose; a reader that stops at the first
    /// document would judge half of it.
    ///
    /// ## Example
    /// ```yaml
    /// services:
    ///   web:
    ///     image: nginx
    /// ---
    /// services:
    ///   web:
    ///     environment:
    ///       MODE: prod      # web has both the image and the variable
    /// ```
    pub struct MultipleDocuments {
        code: "Y008",
        name: "multiple-documents",
        severity: Info,
        layer: Yaml,
        summary: "Several YAML documents are merged, as compose merges them",
        help: "Each document is merged over the ones before it; keep one document if that is not what you meant.",
        fixable: false,
    }
}

impl Rule for MultipleDocuments {
    fn check(&self, ctx: &Context, sink: &mut Sink) {
        let later = ctx
            .yaml_problems
            .iter()
            .filter(|p| p.kind == YamlProblemKind::MultipleDocuments);
        // The first document starts without a problem: the n-th problem is
        // document n + 1.
        for (n, problem) in later.enumerate() {
            if n + 1 < MAX_MERGED_DOCUMENTS {
                sink.at_span(
                    problem.span,
                    None,
                    "another YAML document starts here; it is merged over the ones before it",
                );
            } else {
                sink.at_span(
                    problem.span,
                    None,
                    format!(
                        "a YAML document past the {MAX_MERGED_DOCUMENTS}th starts here and is not read"
                    ),
                )
                .severity(Severity::Warning)
                .help("Join the documents: past this many, the rest are left out.");
            }
        }
    }
}
