use crate::declare_rule;
use crate::rules::{Context, Rule, Sink};

declare_rule! {
    /// ## What
    /// A `# specstudio-ignore: CODE` comment whose rule reports nothing on the
    /// next line, a `# specstudio-ignore-file: CODE` whose rule reports
    /// nothing in the file, or an ignore naming no rule.
    ///
    /// ## Why
    /// A stale ignore hides the next real problem of that kind on that line;
    /// a misspelt code silences nothing.
    ///
    /// ## Example
    /// ```yaml
    /// services:
    ///   web:
    ///     # specstudio-ignore: C005
    ///     image: nginx        # no port here: the ignore is unused
    /// ```
    pub struct UnusedIgnore {
        code: "I001",
        name: "unused-ignore",
        severity: Warning,
        layer: Config,
        summary: "An ignore comment silences nothing",
        help: "Remove the comment, or fix the code it names.",
        fixable: false,
    }
}

impl Rule for UnusedIgnore {
    /// Reported by `config::apply`, which sees every other rule's findings.
    fn check(&self, _ctx: &Context, _sink: &mut Sink) {}
}
