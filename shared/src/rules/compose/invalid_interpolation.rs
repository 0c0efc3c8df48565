use crate::declare_rule;
use crate::diagnostic::Severity;
use crate::interpolation;
use crate::rules::{Context, Rule, Sink};
use crate::syntax::{NodeKind, Seg};

declare_rule! {
    /// ## What
    /// A `${` that compose cannot read: never closed, no variable name
    /// (`${}`, `${1}`), or something other than `}` or one of the operators
    /// `:-` `-` `:?` `?` `:+` `+` after the name (`${VAR:}`, `${VAR%%x}`).
    ///
    /// ## Why
    /// Compose interpolates every value before reading the file and stops at
    /// the first malformed `${…}` ("invalid interpolation format"). A shell
    /// expansion meant for the container has to be escaped as `$${…}`.
    /// Omnistrate specs get a warning: whether their upload interpolates is
    /// not documented; action-hook `commandTemplate` scripts, which published
    /// specs fill with shell expansions, are not checked there.
    ///
    /// ## Example
    /// ```yaml
    /// services:
    ///   web:
    ///     image: "nginx:${TAG:}"         # `:` with no operator
    ///     command: ["sh", "-c", "echo ${HOME%%/}"]   # write $${HOME%%/}
    /// ```
    pub struct InvalidInterpolation {
        code: "C014",
        name: "invalid-interpolation",
        severity: Error,
        layer: Compose,
        summary: "A `${…}` interpolation is malformed",
        help: "Write `${NAME}`, `${NAME:-default}`, `${NAME:?message}` or `${NAME:+alt}`; escape a literal `$` as `$$`.",
        fixable: false,
    }
}

impl Rule for InvalidInterpolation {
    fn check(&self, ctx: &Context, sink: &mut Sink) {
        let tree = ctx.tree;
        let omnistrate = ctx.is_omnistrate();
        // Compose interpolates values, not keys: the values holding a `$`.
        for &id in &super::scan::node_scan(ctx).dollar_values {
            let node = tree.node(id);
            let NodeKind::Scalar(scalar) = &node.kind else {
                continue;
            };
            // Action hooks run as shell scripts on Omnistrate, which does not
            // interpolate them: published specs use `${#array[@]}` there.
            if omnistrate
                && matches!(node.seg, Seg::Key(key) if tree.str(key) == Some("commandTemplate"))
            {
                continue;
            }
            let Err(bad) = interpolation::validate(&scalar.value) else {
                continue;
            };
            let span = tree.sub_span(id, bad.start, bad.end);
            let d = sink.at_span(span, Some(id), bad.message);
            if omnistrate {
                d.severity(Severity::Warning);
            }
        }
    }
}
