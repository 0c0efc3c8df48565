use crate::declare_rule;
use crate::rules::{Context, Rule, Sink};

declare_rule! {
    /// ## What
    /// A bounded check lists at most a fixed number of diagnostics (the
    /// specstudio server: 200); this one stands for the rest: how many, of
    /// which severity, and where the earliest of them is. It is an error when
    /// an error is among them, else a warning, else an info. Diagnostics an
    /// ignore comment silences are neither listed nor counted.
    ///
    /// ## Why
    /// A generated spec can yield hundreds of thousands of findings; holding
    /// and sending them all cost the server gigabytes. The earliest ones are
    /// what a reader fixes first, and the count says how much is left. The
    /// editor, `specstudio lint` and the language server list everything and
    /// never report it.
    ///
    /// ## Example
    /// A spec with 1,000 unknown top-level keys posted to `/api/validate`:
    /// ```yaml
    /// k0: 1   # C001, listed
    /// k1: 1   # C001, listed
    /// # … the 201st: "and 800 more diagnostic(s) not listed (800 error(s), …)"
    /// ```
    pub struct MoreDiagnostics {
        code: "Y999",
        name: "more-diagnostics",
        severity: Warning,
        layer: Yaml,
        summary: "More diagnostics than this check lists",
        help: "Fix the listed diagnostics and check again, or run `specstudio lint` for the full list.",
        fixable: false,
    }
}

impl Rule for MoreDiagnostics {
    /// Added by the bounded analysis after the rules ran (`shared::limits`):
    /// nothing to look for here.
    fn check(&self, _ctx: &Context, _sink: &mut Sink) {}
}
