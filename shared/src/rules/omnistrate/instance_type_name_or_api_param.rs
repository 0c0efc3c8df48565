use crate::declare_rule;
use crate::rules::{Context, Rule, Sink};

use super::support::{first_key, later_and_earlier, present, span_of};

declare_rule! {
    /// ## What
    /// An `instanceTypes[]` item that sets both `name` (a fixed type such as
    /// `t4g.small`) and `apiParam` (a parameter the customer sets), or
    /// neither.
    ///
    /// ## Why
    /// The instance type comes from exactly one of the two: with both, one
    /// is silently ignored; with neither, the cloud has no instance type.
    ///
    /// ## Example
    /// ```yaml
    /// instanceTypes:
    ///   - cloudProvider: aws
    ///     name: t4g.small
    ///     apiParam: instanceType   # remove one of the two
    /// ```
    pub struct InstanceTypeNameOrApiParam {
        code: "O023",
        name: "instance-type-name-or-api-param",
        severity: Error,
        layer: Omnistrate,
        summary: "An instance type needs exactly one of `name` and `apiParam`",
        help: "Use `name` for a fixed instance type, or `apiParam` to let the customer choose; not both.",
        fixable: false,
    }
}

impl Rule for InstanceTypeNameOrApiParam {
    fn check(&self, ctx: &Context, sink: &mut Sink) {
        let tree = ctx.tree;
        for service in &ctx.spec.services {
            let Some(compute) = &service.compute else {
                continue;
            };
            for instance in &compute.instance_types {
                let name = present(tree, instance.node, "name");
                let param = present(tree, instance.node, "apiParam");
                match (name, param) {
                    (Some(name), Some(param)) => {
                        let (later, earlier) = later_and_earlier(tree, name, param);
                        let earlier_key = tree.str(earlier.key).unwrap_or_default();
                        sink.at(later.key, "instance type sets both `name` and `apiParam`")
                            .related(
                                span_of(tree, earlier.key),
                                format!("`{earlier_key}` set here"),
                            );
                    }
                    (None, None) => {
                        let at = first_key(tree, instance.node).unwrap_or(instance.node);
                        sink.at(at, "instance type has neither `name` nor `apiParam`");
                    }
                    _ => {}
                }
            }
        }
    }
}
