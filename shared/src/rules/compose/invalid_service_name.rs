use super::support;
use crate::declare_rule;
use crate::rules::{Context, Rule, Sink};

declare_rule! {
    /// ## What
    /// A service name that does not match `^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`.
    ///
    /// ## Why
    /// Service names become resource keys, DNS names and template prefixes
    /// (`$master.sys…`); spaces, slashes or a leading `-` make the spec
    /// invalid for compose and for Omnistrate.
    ///
    /// ## Example
    /// ```yaml
    /// services:
    ///   my database:      # no spaces
    ///     image: mysql:8
    /// ```
    pub struct InvalidServiceName {
        code: "C003",
        name: "invalid-service-name",
        severity: Error,
        layer: Compose,
        summary: "A service name has characters compose does not allow",
        help: "Use letters, digits, `_`, `.` and `-`, starting with a letter or digit (e.g. `Master`, `read-replica`).",
        fixable: false,
    }
}

/// What is wrong with a name, if anything.
fn problem(name: &str) -> Option<String> {
    let mut chars = name.chars();
    let Some(first) = chars.next() else {
        return Some("service name is empty".to_owned());
    };
    if !first.is_ascii_alphanumeric() {
        return Some(format!(
            "service name `{name}` must start with a letter or digit, not {}",
            show(first)
        ));
    }
    chars
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')))
        .map(|bad| format!("service name `{name}` contains {}", show(bad)))
}

fn show(c: char) -> String {
    match c {
        ' ' => "a space".to_owned(),
        '\t' => "a tab".to_owned(),
        c if c.is_control() => format!("the control character U+{:04X}", c as u32),
        c => format!("`{c}`"),
    }
}

impl Rule for InvalidServiceName {
    fn check(&self, ctx: &Context, sink: &mut Sink) {
        for service in &ctx.spec.services {
            if let Some(message) = problem(&service.name.value) {
                let span = support::token_span(ctx.tree, service.name.node);
                sink.at_span(span, Some(service.name.node), message);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::problem;

    #[test]
    fn names() {
        for ok in ["Master", "read-replica", "db_1", "a.b", "9lives"] {
            assert_eq!(problem(ok), None, "{ok}");
        }
        for bad in ["", "-db", "_db", ".db", "my db", "a/b", "Mäster", "a:b"] {
            assert!(problem(bad).is_some(), "{bad}");
        }
    }
}
