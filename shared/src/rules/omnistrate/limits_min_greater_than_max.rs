use crate::declare_rule;
use crate::rules::{Context, Rule, Sink};

use super::support::{fmt_number, span_of};

declare_rule! {
    /// ## What
    /// API parameter `limits` whose `min` is greater than `max`, or whose
    /// `minLength` is greater than `maxLength`.
    ///
    /// ## Why
    /// No value can satisfy both bounds, so the parameter can never be set.
    ///
    /// ## Example
    /// ```yaml
    /// limits:
    ///   min: 10
    ///   max: 1
    /// ```
    pub struct LimitsMinGreaterThanMax {
        code: "O017",
        name: "limits-min-greater-than-max",
        severity: Error,
        layer: Omnistrate,
        summary: "API parameter limits have a minimum above the maximum",
        help: "Swap the two bounds or correct one of them.",
        fixable: false,
    }
}

impl Rule for LimitsMinGreaterThanMax {
    fn check(&self, ctx: &Context, sink: &mut Sink) {
        for service in &ctx.spec.services {
            for param in &service.api_params {
                let Some(limits) = &param.limits else {
                    continue;
                };
                for (low, high, low_name, high_name) in [
                    (&limits.min, &limits.max, "min", "max"),
                    (
                        &limits.min_length,
                        &limits.max_length,
                        "minLength",
                        "maxLength",
                    ),
                ] {
                    let (Some(low), Some(high)) = (low, high) else {
                        continue;
                    };
                    if low.value <= high.value {
                        continue;
                    }
                    sink.at(
                        low.node,
                        format!(
                            "`{low_name}` ({}) is greater than `{high_name}` ({})",
                            fmt_number(low.value),
                            fmt_number(high.value)
                        ),
                    )
                    .related(
                        span_of(ctx.tree, high.node),
                        format!("`{high_name}` set here"),
                    );
                }
            }
        }
    }
}
