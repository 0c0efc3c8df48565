//! Helpers shared by the template rules (not a rule).

use crate::diagnostic::{Diagnostic, Fix};
use crate::model::keys;
use crate::model::{Service, TemplateUse};
use crate::rules::Context;
use crate::span::Span;
use crate::template::{RefKind, RefScope};

/// The reference as it must appear in the source when its span is exact.
pub(super) fn written(usage: &TemplateUse) -> String {
    let r = &usage.reference;
    let kind = match r.kind {
        RefKind::Var => "var",
        RefKind::Sys => "sys",
    };
    match &r.scope {
        RefScope::This => format!("${kind}.{}", r.path),
        RefScope::Resource(res) => format!("${res}.{kind}.{}", r.path),
    }
}

/// Whether the reference's span covers exactly its own text (so sub-spans and
/// fixes are safe); false for escaped or block scalars, where spans fall back
/// to the whole scalar.
pub(super) fn is_exact(ctx: &Context, usage: &TemplateUse) -> bool {
    ctx.text.get(usage.span.start..usage.span.end) == Some(written(usage).as_str())
}

/// Span of the path (`mysqlPassword`, `network.x`) at the end of an exact reference.
pub(super) fn path_span(ctx: &Context, usage: &TemplateUse) -> Option<Span> {
    is_exact(ctx, usage)
        .then(|| Span::new(usage.span.end - usage.reference.path.len(), usage.span.end))
}

/// The parameter keys `$var.X` may name on a service. A service without
/// `x-omnistrate-api-params` exposes its environment variables as parameters.
pub(super) fn param_keys(service: &Service) -> Vec<&str> {
    if service.api_params_node.is_some() {
        service
            .api_params
            .iter()
            .filter_map(|p| p.key_str())
            .collect()
    } else {
        service
            .environment
            .iter()
            .map(|e| e.name.value.as_str())
            .collect()
    }
}

/// The closest candidate within a typo's reach (stricter than
/// `did_you_mean`: `mysqlPassword` must not become `mysqlRootPassword`).
pub(super) fn suggest<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    keys::closest(word, candidates, (word.chars().count() / 6).clamp(1, 3))
}

/// When `owner` declares a key close to the unknown `param`, say so and offer
/// the rename of the reference's path. Returns whether there was one.
pub(super) fn suggest_declared_key(
    ctx: &Context,
    usage: &TemplateUse,
    diagnostic: &mut Diagnostic,
    owner: &str,
    param: &str,
    known: &[&str],
) -> bool {
    let Some(suggestion) = suggest(param, known.iter().copied()) else {
        return false;
    };
    diagnostic.help(format!(
        "`{owner}` declares `{suggestion}`; otherwise add `{param}` to its `x-omnistrate-api-params`."
    ));
    if let Some(span) = path_span(ctx, usage) {
        diagnostic.fix(Fix::replace(
            format!("Did you mean `{suggestion}`?"),
            span,
            suggestion,
        ));
    }
    true
}
