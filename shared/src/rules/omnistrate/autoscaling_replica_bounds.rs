use crate::declare_rule;
use crate::rules::{Context, Rule, Sink};

use super::support::{fmt_number, object_anchor, present, span_of};

declare_rule! {
    /// ## What
    /// `autoscaling` without `minReplicas` or `maxReplicas` (both are
    /// required), with `minReplicas` below 1 (below 0 with `policyType:
    /// custom`), or with `minReplicas` greater than `maxReplicas`.
    ///
    /// ## Why
    /// The managed autoscaler keeps the replica count within `1 ≤ min ≤ max`;
    /// bounds outside that cannot be honoured and the capability is rejected.
    /// (With the managed policy, scaling to zero is the job of
    /// `serverlessConfiguration`.) A `custom` policy is driven by the
    /// provider's own controller through the API and may scale to 0.
    ///
    /// ## Example
    /// ```yaml
    /// autoscaling:
    ///   minReplicas: 6
    ///   maxReplicas: 5
    /// ```
    pub struct AutoscalingReplicaBounds {
        code: "O024",
        name: "autoscaling-replica-bounds",
        severity: Error,
        layer: Omnistrate,
        summary: "Autoscaling replica bounds are missing or out of order",
        help: "Set `minReplicas` and `maxReplicas` with 1 ≤ minReplicas ≤ maxReplicas.",
        fixable: false,
    }
}

impl Rule for AutoscalingReplicaBounds {
    fn check(&self, ctx: &Context, sink: &mut Sink) {
        let tree = ctx.tree;
        for service in &ctx.spec.services {
            let Some(autoscaling) = service
                .capabilities
                .as_ref()
                .and_then(|c| c.autoscaling.as_ref())
            else {
                continue;
            };
            for field in ["minReplicas", "maxReplicas"] {
                if present(tree, autoscaling.node, field).is_none() {
                    sink.at(
                        object_anchor(tree, autoscaling.node),
                        format!("`autoscaling` has no `{field}`"),
                    );
                }
            }
            let Some(min) = &autoscaling.min_replicas else {
                continue;
            };
            let custom = tree
                .get_value(autoscaling.node, "policyType")
                .and_then(|n| tree.str(n))
                .is_some_and(|p| p.eq_ignore_ascii_case("custom"));
            let floor = if custom { 0.0 } else { 1.0 };
            if min.value < floor {
                sink.at(
                    min.node,
                    format!(
                        "`minReplicas` must be at least {floor}, not {}",
                        fmt_number(min.value)
                    ),
                )
                .help(if custom {
                    "A replica count cannot be negative."
                } else {
                    "Keep at least one replica; use `serverlessConfiguration` or `policyType: custom` to scale to zero."
                });
            } else if let Some(max) = &autoscaling.max_replicas {
                if min.value > max.value {
                    sink.at(
                        min.node,
                        format!(
                            "`minReplicas` ({}) is greater than `maxReplicas` ({})",
                            fmt_number(min.value),
                            fmt_number(max.value)
                        ),
                    )
                    .related(span_of(tree, max.node), "`maxReplicas` set here");
                }
            }
        }
    }
}
