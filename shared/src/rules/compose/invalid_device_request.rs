use crate::declare_rule;
use crate::rules::{Context, Rule, Sink};
use crate::syntax::{ScalarValue, Shape};

declare_rule! {
    /// ## What
    /// A GPU or device request compose refuses: an entry of
    /// `deploy.resources.reservations.devices` without `capabilities`, a
    /// `count` that is neither a number nor `all`, `count` together with
    /// `device_ids`; or a `gpus:` value that is neither `all` nor a list.
    ///
    /// ## Why
    /// Compose validates device requests against its schema (`capabilities`
    /// is required) and the engine cannot honour `count` and `device_ids` at
    /// once.
    ///
    /// ## Example
    /// ```yaml
    /// services:
    ///   ml:
    ///     image: pytorch/pytorch
    ///     deploy:
    ///       resources:
    ///         reservations:
    ///           devices:
    ///             - driver: nvidia
    ///               count: many
    /// ```
    pub struct InvalidDeviceRequest {
        code: "C021",
        name: "invalid-device-request",
        severity: Error,
        layer: Compose,
        summary: "A GPU/device request is malformed",
        help: "Write `capabilities: [gpu]` with either `count` (a number or `all`) or `device_ids`.",
        fixable: false,
    }
}

fn check_request(ctx: &Context, sink: &mut Sink, item: u32, needs_capabilities: bool) {
    let tree = ctx.tree;
    if tree.shape(item) != Shape::Mapping {
        return;
    }
    if needs_capabilities && tree.get_value(item, "capabilities").is_none() {
        let span = crate::rules::compose::support::first_line(ctx.text, tree.span(item));
        sink.at_span(
            span,
            Some(item),
            "a device request needs `capabilities` (e.g. `[gpu]`)",
        );
    }
    let count = tree.get_value(item, "count");
    if let Some(count) = count {
        let ok = match tree.value(count) {
            Some(ScalarValue::Int(n)) => n >= -1,
            Some(ScalarValue::Str(s)) => {
                s == "all"
                    || crate::interpolation::needs_interpolation(s)
                    || s.parse::<i64>().is_ok()
            }
            _ => false,
        };
        if !ok {
            sink.at(count, "`count` must be a number or `all`");
        }
        if let Some(ids) = tree.get(item, "device_ids") {
            sink.at(ids.key, "`count` and `device_ids` are mutually exclusive");
        }
    }
}

impl Rule for InvalidDeviceRequest {
    fn check(&self, ctx: &Context, sink: &mut Sink) {
        let tree = ctx.tree;
        for service in &ctx.spec.services {
            if let Some(devices) = tree
                .get_value(service.node, "deploy")
                .and_then(|d| tree.get_value(d, "resources"))
                .and_then(|r| tree.get_value(r, "reservations"))
                .and_then(|r| tree.get_value(r, "devices"))
            {
                for item in tree.items(devices) {
                    check_request(ctx, sink, *item, true);
                }
            }
            if let Some(gpus) = tree.get_value(service.node, "gpus") {
                match tree.shape(gpus) {
                    Shape::Sequence => {
                        for item in tree.items(gpus) {
                            check_request(ctx, sink, *item, false);
                        }
                    }
                    Shape::Scalar if tree.str(gpus) == Some("all") => {}
                    Shape::Scalar
                        if tree
                            .str(gpus)
                            .is_some_and(crate::interpolation::needs_interpolation) => {}
                    _ => {
                        sink.at(gpus, "`gpus` must be `all` or a list of device requests");
                    }
                }
            }
        }
    }
}
