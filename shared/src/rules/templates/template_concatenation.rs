use super::support::{is_exact, written};
use crate::declare_rule;
use crate::diagnostic::Fix;
use crate::model::TemplateUse;
use crate::rules::{Context, Rule, Sink};
use crate::syntax::ScalarStyle;
use crate::template;

declare_rule! {
    /// ## What
    /// A bare reference (`$var.x`, `$sys.…`) shares its value with other text,
    /// e.g. `HOST=$sys.network.internalClusterEndpoint:8000`.
    ///
    /// ## Why
    /// A bare reference must be the whole value; inside a larger string it has
    /// to be wrapped in `{{ }}`, otherwise the platform rejects the spec.
    ///
    /// ## Example
    /// ```yaml
    /// environment:
    ///   - URL=mysql://$var.user@db:3306    # wrong
    ///   - URL=mysql://{{ $var.user }}@db:3306
    /// ```
    pub struct TemplateConcatenation {
        code: "T005",
        name: "template-concatenation",
        severity: Error,
        layer: Templates,
        summary: "A bare template reference is mixed with other text",
        help: "Wrap the reference in `{{ }}`, e.g. `{{ $var.x }}`, or make it the whole value.",
        fixable: true,
    }
}

impl Rule for TemplateConcatenation {
    fn check(&self, ctx: &Context, sink: &mut Sink) {
        for usage in ctx.spec.templates.iter().filter(|u| u.concatenated) {
            let text = ctx.tree.str(usage.node).unwrap_or_default();
            // An unclosed `{{` makes its reference look bare: T006 reports that.
            if !template::scan(text).unclosed_braces.is_empty() {
                continue;
            }
            let token = written(usage);
            let diagnostic = sink.at_span(
                usage.span,
                Some(usage.node),
                format!("`{token}` is mixed with other text"),
            );
            if let Some(fix) = wrap_fix(ctx, usage, &token) {
                diagnostic.fix(fix);
            }
        }
    }
}

/// Wrap the reference in `{{ }}`. A plain scalar that would then start with `{`
/// (or sits in a flow collection) is re-written single-quoted as a whole.
fn wrap_fix(ctx: &Context, usage: &TemplateUse, token: &str) -> Option<Fix> {
    if !is_exact(ctx, usage) {
        return None;
    }
    let title = format!("Wrap in `{{{{ {token} }}}}`");
    let wrapped = format!("{{{{ {token} }}}}");
    let tree = ctx.tree;
    let scalar = tree.scalar(usage.node)?;
    let whole = tree.value_span(usage.node);
    let in_flow = tree
        .node(usage.node)
        .parent
        .map(|p| tree.span(p).start)
        .and_then(|at| ctx.text.as_bytes().get(at))
        .is_some_and(|b| matches!(b, b'{' | b'['));
    if scalar.style == ScalarStyle::Plain && (usage.span.start == whole.start || in_flow) {
        let source = ctx.text.get(whole.start..whole.end)?;
        if source != scalar.value {
            return None;
        }
        let from = usage.span.start - whole.start;
        let to = usage.span.end - whole.start;
        let value = format!("{}{wrapped}{}", &source[..from], &source[to..]);
        return Some(Fix::replace(
            title,
            whole,
            format!("'{}'", value.replace('\'', "''")),
        ));
    }
    Some(Fix::replace(title, usage.span, wrapped))
}
