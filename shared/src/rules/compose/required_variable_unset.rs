use crate::declare_rule;
use crate::interpolation;
use crate::rules::{Context, Rule, Sink};
use crate::syntax::{NodeKind, Seg};

declare_rule! {
    /// ## What
    /// A `${VAR:?message}` (or `${VAR?message}`) whose variable is unset
    /// (or empty, with the colon) in the variables given with `--env-file`,
    /// `--env` or the `.env` beside the file. Without known variables this
    /// rule is silent.
    ///
    /// ## Why
    /// Compose stops with `message` before doing anything: the author marked
    /// the variable as required.
    ///
    /// ## Example
    /// ```yaml
    /// services:
    ///   db:
    ///     image: mariadb:11
    ///     environment:
    ///       MARIADB_ROOT_PASSWORD: ${DB_PASSWORD:?set DB_PASSWORD in .env}
    /// ```
    pub struct RequiredVariableUnset {
        code: "C015",
        name: "required-variable-unset",
        severity: Error,
        layer: Compose,
        summary: "A variable marked required with `:?` is not set",
        help: "Set the variable in `.env`, in the file given to `--env-file`, or in the environment (with `--env`).",
        fixable: false,
    }
}

impl Rule for RequiredVariableUnset {
    fn check(&self, ctx: &Context, sink: &mut Sink) {
        if ctx.vars.is_empty() {
            return;
        }
        let tree = ctx.tree;
        for (id, node) in tree.nodes.iter().enumerate() {
            let NodeKind::Scalar(scalar) = &node.kind else {
                continue;
            };
            if matches!(node.seg, Seg::KeyOf(_)) || !scalar.value.contains("${") {
                continue;
            }
            let Ok(value) = interpolation::interpolate(&scalar.value, ctx.vars) else {
                continue;
            };
            let id = id as u32;
            for missing in value.missing {
                let span = tree.sub_span(id, missing.start, missing.end);
                let message = if missing.message.is_empty() {
                    format!("required variable `{}` is unset or empty", missing.name)
                } else {
                    format!(
                        "required variable `{}` is unset or empty: {}",
                        missing.name, missing.message
                    )
                };
                sink.at_span(span, Some(id), message);
            }
        }
    }
}
