use super::support;
use crate::declare_rule;
use crate::model::keys;
use crate::rules::{Context, Rule, Sink};
use crate::syntax::Shape;

declare_rule! {
    /// ## What
    /// A key in a service that compose and Omnistrate do not know. Keys
    /// starting with `x-` are left alone here (unknown `x-omnistrate-*` keys
    /// have their own rule).
    ///
    /// ## Why
    /// Unknown service keys are rejected when the spec is uploaded; most are
    /// typos (`enviroment:`, `port:`) whose settings would otherwise be lost.
    ///
    /// ## Example
    /// ```yaml
    /// services:
    ///   Master:
    ///     image: mysql:8
    ///     enviroment:       # did you mean `environment`?
    ///       - MYSQL_DATABASE=app
    /// ```
    pub struct UnknownServiceKey {
        code: "C002",
        name: "unknown-service-key",
        severity: Error,
        layer: Compose,
        summary: "A service key is not a known compose or Omnistrate key",
        help: "Remove the key, fix its spelling, or prefix it with `x-` to keep it as an extension.",
        fixable: true,
    }
}

impl Rule for UnknownServiceKey {
    fn check(&self, ctx: &Context, sink: &mut Sink) {
        let mut suggester = support::schema_suggester(&keys::SERVICE);
        for service in &ctx.spec.services {
            // Merged keys (`<<: *defaults`) are checked where they are
            // written; the message names no service so repeats collapse.
            if ctx.tree.shape(service.node) == Shape::Mapping {
                support::report_unknown_keys(
                    ctx,
                    sink,
                    service.node,
                    &keys::SERVICE,
                    &mut suggester,
                );
            }
        }
    }
}
