use crate::declare_rule;
use crate::rules::{Context, Rule, Sink};

use super::support::{fmt_number, object_anchor, present, span_of};

declare_rule! {
    /// ## What
    /// `autoscaling` without `minReplicas` or `maxReplicas` (both are
    /// required), with `minReplicas` below 1, or with `minReplicas` greater
    /// than `maxReplicas`.
    ///
    /// ## Why
    /// The autoscaler keeps the replica count within `1 ≤ min ≤ max`; bounds
    /// outside that cannot be honoured and the capability is rejected.
    /// (Scaling to zero is the job of `serverlessConfiguration`, not of
    /// `minReplicas: 0`.)
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
            if min.value < 1.0 {
                sink.at(
                    min.node,
                    format!(
                        "`minReplicas` must be at least 1, not {}",
                        fmt_number(min.value)
                    ),
                )
                .help("Keep at least one replica; use `serverlessConfiguration` to scale to zero.");
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
