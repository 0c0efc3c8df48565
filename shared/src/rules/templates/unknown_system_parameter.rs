use super::support::path_span;
use crate::declare_rule;
use crate::diagnostic::{Fix, Severity};
use crate::model::keys::did_you_mean;
use crate::rules::{Context, Rule, Sink};
use crate::template::{normalize_sys_path, system_parameter, RefKind, SYSTEM_PARAMETERS};

declare_rule! {
    /// ## What
    /// `$sys.<path>` or `$<resource>.sys.<path>` names a system parameter that
    /// is not in the table (`shared::system_parameters`). Indices are 0-based
    /// and written `[0]` (or `[*]` for all); string keys `["6379"]`.
    ///
    /// ## Why
    /// Unknown system parameters cannot be resolved and the spec is rejected.
    /// A near miss of a known parameter is an error with a fix; any other
    /// path is a warning, since Omnistrate adds parameters faster than any
    /// published list.
    ///
    /// ## Example
    /// ```yaml
    /// Replica:
    ///   environment:
    ///     - MYSQL_MASTER_PORT_NUMBER=$master.sys.network.externalClusterServerlessEndpoint.openPort[0]
    /// ```
    pub struct UnknownSystemParameter {
        code: "T004",
        name: "unknown-system-parameter",
        severity: Error,
        layer: Templates,
        summary: "A template references an unknown system parameter",
        help: "Use a documented system parameter such as `$sys.network.internalClusterEndpoint` or `$sys.compute.node.index`.",
        fixable: true,
    }
}

/// Parameters that exist only while a workflow (snapshot, restore) runs an
/// action hook.
fn is_workflow_parameter(path: &str) -> bool {
    path.starts_with("snapshot.")
        || path.starts_with("restore.")
        || matches!(path, "sourceInstanceId" | "targetInstanceId")
}

/// Write `candidate` (indices as `[i]`) with the indices the user wrote, in
/// order; missing ones become `[0]`.
pub(super) fn with_user_indices(candidate: &str, user_path: &str) -> String {
    let mut indices = user_path
        .split('[')
        .skip(1)
        .filter_map(|rest| rest.split_once(']').map(|(n, _)| n))
        .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
    let mut out = String::with_capacity(candidate.len());
    let mut rest = candidate;
    while let Some(at) = rest.find("[i]") {
        out.push_str(&rest[..at]);
        out.push('[');
        out.push_str(indices.next().unwrap_or("0"));
        out.push(']');
        rest = &rest[at + 3..];
    }
    out.push_str(rest);
    out
}

impl Rule for UnknownSystemParameter {
    fn check(&self, ctx: &Context, sink: &mut Sink) {
        for usage in &ctx.spec.templates {
            if usage.reference.kind != RefKind::Sys {
                continue;
            }
            let path = usage.reference.path.as_str();
            if system_parameter(path).is_some() {
                continue;
            }
            if usage.via == "commandTemplate" && is_workflow_parameter(path) {
                continue;
            }
            let diagnostic = sink.at_span(
                usage.span,
                Some(usage.node),
                format!("unknown system parameter `{path}`"),
            );
            if is_workflow_parameter(path) {
                diagnostic.help(format!(
                    "`{path}` only exists in action hooks (`commandTemplate`) run by a workflow."
                ));
                continue;
            }
            let normalized = normalize_sys_path(path);
            let Some(candidate) =
                did_you_mean(&normalized, SYSTEM_PARAMETERS.iter().map(|(p, _)| *p))
            else {
                diagnostic.severity(Severity::Warning).help(
                    "Not a documented system parameter: check the spelling against the Omnistrate docs.",
                );
                continue;
            };
            let suggestion = with_user_indices(candidate, path);
            diagnostic.help(format!("The closest system parameter is `{suggestion}`."));
            if let Some(span) = path_span(ctx, usage) {
                diagnostic.fix(Fix::replace(
                    format!("Did you mean `{suggestion}`?"),
                    span,
                    suggestion,
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::with_user_indices;

    #[test]
    fn keeps_the_users_indices() {
        assert_eq!(
            with_user_indices(
                "network.externalClusterServerlessEndpoint.openPorts[i]",
                "network.externalClusterServerlessEndpoint.openPort[2]"
            ),
            "network.externalClusterServerlessEndpoint.openPorts[2]"
        );
        assert_eq!(
            with_user_indices("compute.nodes[i].name", "compute.nodes.nam"),
            "compute.nodes[0].name"
        );
    }
}
