use super::support;
use crate::declare_rule;
use crate::rules::{Context, IncludedKind, Rule, Sink};

declare_rule! {
    /// ## What
    /// `extends` names a service this file does not define (without `file:`),
    /// has no `service`, or the `extends` chain comes back to itself; or a
    /// base in another file (`file:`) cannot be followed: the file cannot be
    /// read, does not define the service, or the bases across files form a
    /// cycle or a chain deeper than 16.
    ///
    /// ## Why
    /// Compose merges the base into the service before anything else; an
    /// unknown base ("cannot extend service") or a circular chain stops it.
    /// A base in another file (`file:`) is read by the CLI and merged (see
    /// `extends_file.rs`); without the file (the editor) it is not judged.
    ///
    /// ## Example
    /// ```yaml
    /// services:
    ///   web:
    ///     extends: base      # no service `base`
    ///   a:
    ///     extends: b
    ///   b:
    ///     extends: a         # circular
    /// ```
    pub struct BrokenExtends {
        code: "C016",
        name: "broken-extends",
        severity: Error,
        layer: Compose,
        summary: "`extends` names an unknown service or forms a cycle",
        help: "Name a service of this file, or add `file:` for a base in another file.",
        fixable: false,
    }
}

impl Rule for BrokenExtends {
    fn check(&self, ctx: &Context, sink: &mut Sink) {
        let (tree, spec) = (ctx.tree, ctx.spec);
        for error in &ctx.external.extends_errors {
            sink.at_span(error.span, Some(error.node), error.message.clone());
        }
        for (index, service) in spec.services.iter().enumerate() {
            let Some(extends) = &service.extends else {
                continue;
            };
            let own = &service.name.value;
            let Some(base) = &extends.service else {
                sink.at_span(
                    support::first_line(ctx.text, tree.span(extends.node)),
                    Some(extends.node),
                    format!("`extends` of service `{own}` has no `service`"),
                );
                continue;
            };
            if let Some(file) = &extends.file {
                if ctx.external.has_service(&file.value, &base.value) == Some(false) {
                    sink.at_span(
                        base.span,
                        Some(base.node),
                        format!(
                            "service `{own}` extends `{}`, which `{}` does not define",
                            base.value, file.value
                        ),
                    );
                }
                continue;
            }
            if spec.service(&base.value).is_none() {
                if !ctx.maybe_included(IncludedKind::Service, &base.value) {
                    sink.at_span(
                        base.span,
                        Some(base.node),
                        format!("service `{own}` extends unknown service `{}`", base.value),
                    );
                }
                continue;
            }
            let chain = spec.extends_chain(index);
            // Report a cycle once, on the edge that closes it back to its
            // first member in source order (the smallest index in the cycle).
            if chain.cycle {
                let last = *chain.bases.last().unwrap_or(&index);
                let back = spec.services[last]
                    .extends
                    .as_ref()
                    .and_then(|e| e.service.as_ref())
                    .and_then(|s| spec.service_index(&s.value));
                let Some(start) = back else { continue };
                let members: Vec<usize> = std::iter::once(index)
                    .chain(chain.bases.iter().copied())
                    .skip_while(|i| *i != start)
                    .collect();
                if members.iter().min() != Some(&index) {
                    continue;
                }
                let names: Vec<&str> = members
                    .iter()
                    .map(|i| spec.services[*i].name.value.as_str())
                    .chain(std::iter::once(own.as_str()))
                    .collect();
                let d = sink.at_span(
                    base.span,
                    Some(base.node),
                    format!("`extends` forms a cycle: {}", names.join(" → ")),
                );
                for member in &members[1..] {
                    if let Some(s) = spec.services[*member]
                        .extends
                        .as_ref()
                        .and_then(|e| e.service.as_ref())
                    {
                        d.related(s.span, "part of the cycle");
                    }
                }
            }
        }
    }
}
