use std::collections::HashSet;

use super::support;
use crate::declare_rule;
use crate::model::compose_keys::BUILD;
use crate::model::keys::{FieldType, ObjectSchema, ROOT, SERVICE};
use crate::rules::{Context, Rule, Sink};
use crate::syntax::{Entry, NodeId, ScalarValue, Shape, Tree};

declare_rule! {
    /// ## What
    /// A value of the wrong shape: `services` or a service that is not a
    /// mapping, a list where a string belongs (`image: [mysql]`), a scalar
    /// where a list belongs (`ports: 3306`), a boolean written as `1`, or an
    /// entry inside `environment`, `volumes`, `ports`… that cannot be read,
    /// an empty `build.ssh:`, or a top-level network or volume that is not a
    /// mapping (`networks: {default: bridge}`): the reference implementation
    /// rejects these two.
    ///
    /// ## Why
    /// Compose and Omnistrate read these fields with a fixed shape and reject
    /// the spec otherwise; the rest of the checks cannot see through them.
    ///
    /// ## Example
    /// ```yaml
    /// services:
    ///   Master:
    ///     image: mysql:8
    ///     ports: 3306      # must be a list: ports: ['3306']
    /// ```
    pub struct WrongShape {
        code: "C011",
        name: "wrong-shape",
        severity: Error,
        layer: Compose,
        summary: "A value has the wrong shape (list, mapping, scalar)",
        help: "Rewrite the value in the shape the key expects.",
        fixable: false,
    }
}

fn expected(ty: FieldType) -> &'static str {
    match ty {
        FieldType::String => "a string",
        FieldType::Bool => "a boolean (`true` or `false`)",
        FieldType::Int => "an integer",
        FieldType::Number => "a number",
        FieldType::Map => "a mapping",
        FieldType::List => "a list",
        FieldType::Any => "anything",
    }
}

/// Whether `node` fits `ty`. Strings holding `${VAR}` fit any scalar type
/// (compose interpolates them), and compose reads `yes`/`no` as booleans.
/// What to write instead, per expected type.
fn how(key: &str, ty: FieldType) -> String {
    match ty {
        FieldType::String => format!("Write a single value on the line: `{key}: <value>`."),
        FieldType::Bool => format!("Write `{key}: true` or `{key}: false`."),
        FieldType::Int | FieldType::Number => format!("Write a number: `{key}: 3`."),
        FieldType::Map => format!("Write `{key}:` followed by indented `name: value` lines."),
        FieldType::List => {
            format!("Write `{key}:` followed by indented `- item` lines, or `{key}: [a, b]`.")
        }
        FieldType::Any => String::new(),
    }
}

fn fits(tree: &Tree, node: NodeId, ty: FieldType) -> bool {
    let shape = tree.shape(node);
    let value = tree.value(node);
    let interpolated = matches!(value, Some(ScalarValue::Str(s)) if support::is_interpolated(s));
    match ty {
        FieldType::Any => true,
        FieldType::Map => matches!(shape, Shape::Mapping | Shape::Null),
        FieldType::List => matches!(shape, Shape::Sequence | Shape::Null),
        FieldType::String => shape == Shape::Scalar,
        FieldType::Bool => match value {
            Some(ScalarValue::Bool(_)) => true,
            Some(ScalarValue::Str(s)) => {
                interpolated
                    || matches!(
                        s.to_ascii_lowercase().as_str(),
                        "true" | "false" | "yes" | "no" | "on" | "off" | "y" | "n"
                    )
            }
            _ => false,
        },
        FieldType::Int => match value {
            Some(ScalarValue::Int(_)) => true,
            Some(ScalarValue::Str(s)) => interpolated || s.trim().parse::<i64>().is_ok(),
            _ => false,
        },
        FieldType::Number => match value {
            Some(ScalarValue::Int(_) | ScalarValue::Float(_)) => true,
            Some(ScalarValue::Str(s)) => interpolated || s.trim().parse::<f64>().is_ok(),
            _ => false,
        },
    }
}

fn check_fields(
    ctx: &Context,
    sink: &mut Sink,
    schema: &ObjectSchema,
    entries: &[Entry],
    reported: &mut HashSet<NodeId>,
) {
    let tree = ctx.tree;
    for entry in entries {
        let Some(key) = tree.str(entry.key) else {
            continue;
        };
        let Some(field) = schema.field(key) else {
            continue;
        };
        // compose-go rejects an empty `build.ssh:` ("must be a mapping") while
        // it reads other list-or-mapping keys left empty as absent.
        let empty_ssh =
            schema.name == BUILD.name && key == "ssh" && tree.shape(entry.value) == Shape::Null;
        if reported.contains(&entry.value) || (!empty_ssh && fits(tree, entry.value, field.ty)) {
            continue;
        }
        // An empty `image:` is a missing image (C004).
        if schema.name == SERVICE.name && key == "image" && tree.shape(entry.value) == Shape::Null {
            continue;
        }
        let got = support::describe(tree, entry.value);
        let (message, help) = if schema.name == ROOT.name && key == "services" {
            (
                format!("`services` must be a mapping of service names to services, not {got}"),
                "Write each service as a key under `services:`, e.g. `services: {Web: {image: nginx}}`.".to_owned(),
            )
        } else if empty_ssh {
            (
                "`ssh` must be a list or a mapping, not null".to_owned(),
                "Write `ssh: [default]` to forward the SSH agent, or remove `ssh:`.".to_owned(),
            )
        } else {
            (
                format!("`{key}` must be {}, not {got}", expected(field.ty)),
                how(key, field.ty),
            )
        };
        // A null has no text: point at its key.
        let span = if tree.shape(entry.value) == Shape::Null {
            support::token_span(tree, entry.key)
        } else {
            support::first_line(ctx.text, support::token_span(tree, entry.value))
        };
        reported.insert(entry.value);
        sink.at_span(span, Some(entry.value), message).help(help);
    }
}

impl Rule for WrongShape {
    fn check(&self, ctx: &Context, sink: &mut Sink) {
        let tree = ctx.tree;
        let Some(root) = ctx.spec.root else { return };
        // Values reported once (a merged `<<` entry is seen by every service).
        let mut reported = HashSet::new();
        check_fields(ctx, sink, &ROOT, &tree.entries(root), &mut reported);
        for service in &ctx.spec.services {
            match tree.shape(service.node) {
                Shape::Mapping => {
                    check_fields(
                        ctx,
                        sink,
                        &SERVICE,
                        &tree.entries(service.node),
                        &mut reported,
                    );
                }
                Shape::Null => {}
                Shape::Scalar | Shape::Sequence => {
                    let got = support::describe(tree, service.node);
                    let span =
                        support::first_line(ctx.text, support::token_span(tree, service.node));
                    let name = &service.name.value;
                    sink.at_span(
                        span,
                        Some(service.node),
                        format!(
                            "service `{name}` must be a mapping of keys (`image`, `ports`…), not {got}"
                        ),
                    )
                    .help(format!(
                        "Indent the service's keys under `{name}:`, e.g. `image: mysql:8` on the next line."
                    ));
                }
            }
        }
        // compose-go (`TestNonMappingObject`): `networks: {default: bridge}`
        // fails with "networks.default must be a mapping"; empty is fine.
        for (key, what) in [("networks", "network"), ("volumes", "volume")] {
            let Some(defs) = tree.get_value(root, key) else {
                continue;
            };
            for entry in tree.entries(defs) {
                let name = tree.str(entry.key).unwrap_or_default();
                if name.starts_with("x-")
                    || matches!(tree.shape(entry.value), Shape::Mapping | Shape::Null)
                    || !reported.insert(entry.value)
                {
                    continue;
                }
                let got = support::describe(tree, entry.value);
                let span = support::first_line(ctx.text, support::token_span(tree, entry.value));
                sink.at_span(
                    span,
                    Some(entry.value),
                    format!("{what} `{name}` must be a mapping (or empty), not {got}"),
                )
                .help(format!(
                    "Write its options indented under `{name}:` (e.g. `driver: local`), or leave `{name}:` empty."
                ));
            }
        }
        // The compose objects below (deploy, healthcheck, long-syntax mounts…).
        for &(schema, node) in super::nested::objects(ctx) {
            check_fields(ctx, sink, schema, &tree.entries(node), &mut reported);
        }
        // What the model noticed, unless the key check above said it already
        // (`ports: 3306` is both a model problem and a wrong-shape key).
        for service in &ctx.spec.services {
            for problem in &service.problems {
                if reported.contains(&problem.node) {
                    continue;
                }
                let span = support::first_line(ctx.text, problem.span);
                sink.at_span(span, Some(problem.node), problem.message.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fits_text(yaml: &str, ty: FieldType) -> bool {
        let (tree, _) = crate::syntax::parse(&format!("k: {yaml}\n"));
        let tree = tree.unwrap();
        let value = tree.get_value(tree.root.unwrap(), "k").unwrap();
        fits(&tree, value, ty)
    }

    #[test]
    fn shapes() {
        assert!(fits_text("mysql:8", FieldType::String));
        assert!(fits_text("3", FieldType::String));
        assert!(!fits_text("[a]", FieldType::String));
        assert!(!fits_text("", FieldType::String));
        assert!(fits_text("", FieldType::List));
        assert!(fits_text("", FieldType::Map));
        assert!(!fits_text("3306", FieldType::List));
        assert!(!fits_text("[a]", FieldType::Map));
        assert!(fits_text("true", FieldType::Bool));
        assert!(fits_text("yes", FieldType::Bool));
        assert!(fits_text("'${PRIV}'", FieldType::Bool));
        assert!(!fits_text("1", FieldType::Bool));
        assert!(fits_text("'3'", FieldType::Int));
        assert!(!fits_text("3.5", FieldType::Int));
        assert!(fits_text("3.5", FieldType::Number));
        assert!(!fits_text("{}", FieldType::Number));
    }
}
