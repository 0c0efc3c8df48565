use super::{nested, support};
use crate::declare_rule;
use crate::rules::{Context, Rule, Sink};

declare_rule! {
    /// ## What
    /// A key the compose specification does not define inside a compose
    /// object below the top level: `build`, `deploy` (and its `resources`,
    /// `limits`, `reservations`, devices, `restart_policy`, `placement`,
    /// `update_config`), `healthcheck`, `logging`, `develop.watch` entries,
    /// long-syntax `volumes`/`ports`/`secrets`/`configs`, `depends_on`
    /// entries, `extends`, service networks, and the top-level definitions of
    /// networks, volumes, secrets, configs, models and `include` entries.
    /// Keys starting with `x-` are extensions and always allowed.
    ///
    /// ## Why
    /// Compose validates the file against its schema (`additionalProperties:
    /// false`) and refuses unknown keys, usually misspellings that would
    /// otherwise silently do nothing.
    ///
    /// ## Example
    /// ```yaml
    /// services:
    ///   web:
    ///     image: nginx
    ///     healthcheck:
    ///       test: ["CMD", "curl", "-f", "http://localhost"]
    ///       intervall: 10s     # interval
    /// ```
    pub struct UnknownNestedKey {
        code: "C023",
        name: "unknown-compose-key",
        severity: Error,
        layer: Compose,
        summary: "A key inside a compose object is not in the compose specification",
        help: "Fix the spelling, remove the key, or prefix it with `x-` to keep it as an extension.",
        fixable: true,
    }
}

impl Rule for UnknownNestedKey {
    fn check(&self, ctx: &Context, sink: &mut Sink) {
        for &(schema, node) in nested::objects(ctx) {
            let mut suggester = support::schema_suggester(schema);
            support::report_unknown_keys(ctx, sink, node, schema, &mut suggester);
        }
    }
}
