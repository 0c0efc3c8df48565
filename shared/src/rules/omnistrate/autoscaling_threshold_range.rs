use crate::declare_rule;
use crate::model::Autoscaling;
use crate::rules::{Context, Rule, Sink};
use crate::syntax::Tree;

use super::support::{fmt_number, present, span_of};

declare_rule! {
    /// ## What
    /// `autoscaling` thresholds or windows that cannot work:
    /// - `idleThreshold` or `overUtilizedThreshold` outside 0–100 (they are
    ///   utilisation percentages; not checked when a custom `scalingMetric`
    ///   is set, whose values can be anything);
    /// - `idleThreshold` not below `overUtilizedThreshold` (defaults 20 and
    ///   80 fill in the one not written);
    /// - `idleMinutesBeforeScalingDown` or `overUtilizedMinutesBeforeScalingUp`
    ///   below 1 (zero and negative windows are reported: a zero window
    ///   would make the autoscaler react to every sample and flap).
    ///
    /// ## Why
    /// With an idle threshold at or above the busy threshold the resource is
    /// idle and busy at once, and replicas are added and removed in turn.
    ///
    /// ## Example
    /// ```yaml
    /// autoscaling:
    ///   idleThreshold: 80
    ///   overUtilizedThreshold: 20
    /// ```
    pub struct AutoscalingThresholdRange {
        code: "O025",
        name: "autoscaling-threshold-range",
        severity: Error,
        layer: Omnistrate,
        summary: "Autoscaling thresholds or windows are out of range",
        help: "Keep 0 ≤ idleThreshold < overUtilizedThreshold ≤ 100 and windows of at least 1 minute.",
        fixable: false,
    }
}

impl Rule for AutoscalingThresholdRange {
    fn check(&self, ctx: &Context, sink: &mut Sink) {
        let tree = ctx.tree;
        for service in &ctx.spec.services {
            let Some(a) = service
                .capabilities
                .as_ref()
                .and_then(|c| c.autoscaling.as_ref())
            else {
                continue;
            };
            let percent = present(tree, a.node, "scalingMetric").is_none();
            let mut in_range = true;
            for (name, value) in [
                ("idleThreshold", &a.idle_threshold),
                ("overUtilizedThreshold", &a.over_utilized_threshold),
            ] {
                let Some(value) = value else { continue };
                if percent && !(0.0..=100.0).contains(&value.value) {
                    in_range = false;
                    sink.at(
                        value.node,
                        format!(
                            "`{name}` must be between 0 and 100 (percent), not {}",
                            fmt_number(value.value)
                        ),
                    )
                    .help("Thresholds are CPU/memory utilisation percentages; set a `scalingMetric` to scale on other values.");
                }
            }
            if in_range {
                order(tree, a, sink);
            }
            for (name, value) in [
                (
                    "idleMinutesBeforeScalingDown",
                    &a.idle_minutes_before_scaling_down,
                ),
                (
                    "overUtilizedMinutesBeforeScalingUp",
                    &a.over_utilized_minutes_before_scaling_up,
                ),
            ] {
                let Some(value) = value else { continue };
                if value.value < 1.0 {
                    sink.at(
                        value.node,
                        format!("`{name}` must be at least 1, not {}", fmt_number(value.value)),
                    )
                    .help("Give the autoscaler at least a minute of samples before it adds or removes a replica.");
                }
            }
        }
    }
}

/// `idleThreshold < overUtilizedThreshold`, with defaults for the one not written.
fn order(tree: &Tree, a: &Autoscaling, sink: &mut Sink) {
    let idle_value = a.idle_threshold_or_default();
    let over_value = a.over_threshold_or_default();
    if idle_value < over_value {
        return;
    }
    let (idle, over) = (
        a.idle_threshold.as_ref(),
        a.over_utilized_threshold.as_ref(),
    );
    let shown = |v: f64, written: bool| {
        if written {
            fmt_number(v)
        } else {
            format!("{} by default", fmt_number(v))
        }
    };
    let message = format!(
        "`idleThreshold` ({}) must be below `overUtilizedThreshold` ({})",
        shown(idle_value, idle.is_some()),
        shown(over_value, over.is_some())
    );
    let help = "Set `idleThreshold` below `overUtilizedThreshold`, or the resource counts as idle and busy at once.";
    match (idle, over) {
        (Some(idle), Some(over)) => {
            sink.at(idle.node, message)
                .related(span_of(tree, over.node), "`overUtilizedThreshold` set here")
                .help(help);
        }
        (Some(idle), None) => {
            sink.at(idle.node, message).help(help);
        }
        (None, Some(over)) => {
            sink.at(over.node, message).help(help);
        }
        (None, None) => {}
    }
}
