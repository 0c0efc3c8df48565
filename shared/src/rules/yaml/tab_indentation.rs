use crate::declare_rule;
use crate::diagnostic::Fix;
use crate::rules::{Context, Rule, Sink};
use crate::syntax::YamlProblemKind;

declare_rule! {
    /// ## What
    /// A line is indented with a tab character.
    ///
    /// ## Why
    /// YAML indentation must be spaces; a tab makes the whole document unreadable.
    ///
    /// ## Example
    /// ```yaml
    /// services:
    /// <TAB>Master:
    /// ```
    pub struct TabIndentation {
        code: "Y003",
        name: "tab-indentation",
        severity: Error,
        layer: Yaml,
        summary: "Tabs are not allowed in YAML indentation",
        help: "Indent with spaces.",
        fixable: true,
    }
}

impl Rule for TabIndentation {
    fn check(&self, ctx: &Context, sink: &mut Sink) {
        for problem in ctx.yaml_problems {
            if problem.kind == YamlProblemKind::Tab {
                let tabs = ctx.text[problem.span.start..problem.span.end].replace('\t', "  ");
                sink.at_span(problem.span, None, "tab character in indentation")
                    .fix(Fix::replace("Replace tabs with spaces", problem.span, tabs));
            }
        }
    }
}
