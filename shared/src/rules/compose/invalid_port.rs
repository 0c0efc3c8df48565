use super::support;
use crate::declare_rule;
use crate::rules::{Context, Rule, Sink};

declare_rule! {
    /// ## What
    /// A `ports:` entry that cannot be read: bad syntax, a port outside
    /// 1–65535, a range that ends before it starts, or a protocol other than
    /// `tcp`, `udp` or `sctp`.
    ///
    /// ## Why
    /// The port list decides what the resource exposes (and what
    /// `serverlessConfiguration.targetPort` may name); a malformed entry is
    /// rejected at upload or exposes nothing.
    ///
    /// ## Example
    /// ```yaml
    /// services:
    ///   Master:
    ///     image: mysql:8
    ///     ports:
    ///       - '33060/tpc'     # unknown protocol
    ///       - '70000'         # out of range
    /// ```
    pub struct InvalidPort {
        code: "C005",
        name: "invalid-port",
        severity: Error,
        layer: Compose,
        summary: "A `ports` entry is malformed or out of range",
        help: "Write `'CONTAINER'`, `'HOST:CONTAINER'` or `'HOST:CONTAINER/PROTOCOL'` with ports between 1 and 65535, or a mapping with `target`.",
        fixable: false,
    }
}

impl Rule for InvalidPort {
    fn check(&self, ctx: &Context, sink: &mut Sink) {
        for service in &ctx.spec.services {
            for port in &service.ports {
                for error in &port.errors {
                    let span = support::first_line(ctx.text, error.span);
                    sink.at_span(span, Some(error.node), error.message.clone());
                }
            }
        }
    }
}
