use crate::declare_rule;
use crate::rules::{Context, Rule, Sink};

declare_rule! {
    /// ## What
    /// A file named in the top-level `include` cannot be followed (it cannot
    /// be read, is not a compose mapping, or the includes form a cycle or
    /// nest deeper than 16), or it defines a service, network, volume,
    /// secret, config or model that the including file (or another included
    /// file) defines differently.
    ///
    /// ## Why
    /// Compose loads each included file as its own model and copies its
    /// resources into the project; a file it cannot load stops it, and so
    /// does a name defined twice ("services.db conflicts with imported
    /// resource") unless both definitions are identical. The included files
    /// are read by the CLI (see `include.rs`); without them (the editor)
    /// they are not judged.
    ///
    /// ## Example
    /// ```yaml
    /// include:
    ///   - db.yaml          # defines `db` with another image
    /// services:
    ///   db:                # conflicts with the included `db`
    ///     image: postgres
    /// ```
    pub struct BrokenInclude {
        code: "C025",
        name: "broken-include",
        severity: Error,
        layer: Compose,
        summary: "an included file cannot be read or conflicts with the project",
        help: "Fix the path, break the cycle, or define each resource in one file only.",
        fixable: false,
    }
}

impl Rule for BrokenInclude {
    fn check(&self, ctx: &Context, sink: &mut Sink) {
        for error in &ctx.external.include_errors {
            sink.at_span(error.span, Some(error.node), error.message.clone());
        }
    }
}
