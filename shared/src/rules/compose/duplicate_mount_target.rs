use std::collections::HashMap;

use crate::declare_rule;
use crate::rules::{Context, Rule, Sink};
use crate::span::Span;

declare_rule! {
    /// ## What
    /// Two `volumes:` entries of one service mount onto the same container
    /// path (a trailing `/` makes no difference).
    ///
    /// ## Why
    /// Only one mount can sit on a path; compose rejects the service, and
    /// which data the container would see is ambiguous.
    ///
    /// ## Example
    /// ```yaml
    /// services:
    ///   Master:
    ///     image: mysql:8
    ///     volumes:
    ///       - ./data:/var/lib/mysql
    ///       - mysql-data:/var/lib/mysql/   # same target
    /// ```
    pub struct DuplicateMountTarget {
        code: "C009",
        name: "duplicate-mount-target",
        severity: Error,
        layer: Compose,
        summary: "Two mounts of a service share a target path",
        help: "Remove one of the mounts or give it another target path.",
        fixable: false,
    }
}

/// `/var/lib/mysql/` and `/var/lib/mysql` are one path; `/` stays `/`.
fn normalise(target: &str) -> &str {
    let trimmed = target.trim_end_matches('/');
    if trimmed.is_empty() && !target.is_empty() {
        "/"
    } else {
        trimmed
    }
}

impl Rule for DuplicateMountTarget {
    fn check(&self, ctx: &Context, sink: &mut Sink) {
        for service in &ctx.spec.services {
            let mut seen: HashMap<&str, Span> = HashMap::new();
            for mount in &service.volumes {
                let Some(target) = &mount.target else {
                    continue;
                };
                let path = normalise(&target.value);
                if path.is_empty() {
                    continue;
                }
                match seen.get(path) {
                    Some(first) => {
                        sink.at_span(
                            target.span,
                            Some(target.node),
                            format!("mount target `{path}` is already used by an earlier mount"),
                        )
                        .related(*first, "first mounted here");
                    }
                    None => {
                        seen.insert(path, target.span);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::normalise;

    #[test]
    fn trailing_slashes() {
        assert_eq!(normalise("/var/lib/mysql/"), "/var/lib/mysql");
        assert_eq!(normalise("/var/lib/mysql"), "/var/lib/mysql");
        assert_eq!(normalise("//"), "/");
        assert_eq!(normalise(""), "");
    }
}
