use crate::declare_rule;
use crate::diagnostic::Fix;
use crate::model::keys::FieldType;
use crate::rules::{Context, Rule, Sink};
use crate::syntax::{NodeId, Scalar, ScalarStyle, ScalarValue, Shape, Tree};
use crate::template;

use super::support::{is_quoted, objects, replace_plain, shorten};

declare_rule! {
    /// ## What
    /// A known field of an API parameter, `limits`, `x-omnistrate-compute`,
    /// an instance type, `x-omnistrate-capabilities`, `autoscaling`,
    /// `serverlessConfiguration`, storage, job config, service plan or
    /// registry credentials (every object O003 walks) whose value has the
    /// wrong shape:
    /// `required: "yes"`, `minReplicas: many`, `instanceTypes: aws`.
    ///
    /// Booleans must be YAML booleans (`true`/`false`), and numbers YAML
    /// numbers: a quoted `"3"` is a string, which the platform's typed
    /// decoder rejects for a numeric field (`defaultValue` is the exception:
    /// it is a string by design). Integer fields take whole numbers. String
    /// fields accept any scalar. An empty value reads as absent and is left
    /// to the rules about missing fields; a template (`$var.size`) is
    /// resolved at deployment and not checked here.
    ///
    /// ## Why
    /// The platform decodes these objects into typed structures; a value of
    /// the wrong shape fails the build or is dropped.
    ///
    /// ## Example
    /// ```yaml
    /// autoscaling:
    ///   minReplicas: "1"    # 1
    ///   maxReplicas: many   # a number
    /// ```
    pub struct OmnistrateFieldType {
        code: "O004",
        name: "omnistrate-field-type",
        severity: Error,
        layer: Omnistrate,
        summary: "An Omnistrate field has a value of the wrong type",
        help: "Write the value with the type the field expects.",
        fixable: true,
    }
}

impl Rule for OmnistrateFieldType {
    fn check(&self, ctx: &Context, sink: &mut Sink) {
        let tree = ctx.tree;
        for object in objects(ctx) {
            for entry in tree.entries(object.node) {
                let Some(key) = tree.str(entry.key) else {
                    continue;
                };
                let Some(field) = object.schema.field(key) else {
                    continue;
                };
                check_value(tree, key, field.ty, entry.value, sink);
            }
        }
    }
}

fn expected(ty: FieldType) -> &'static str {
    match ty {
        FieldType::String => "a string",
        FieldType::Bool => "a boolean",
        FieldType::Int => "a whole number",
        FieldType::Number => "a number",
        FieldType::Map => "a mapping",
        FieldType::List => "a list",
        FieldType::Any => "a value",
    }
}

fn check_value(tree: &Tree, key: &str, ty: FieldType, value: NodeId, sink: &mut Sink) {
    let shape = tree.shape(value);
    if shape == Shape::Null || ty == FieldType::Any {
        return;
    }
    // `$var.size`: resolved at deployment, checked by the template rules.
    if tree
        .str(value)
        .is_some_and(|text| !template::scan(text).refs.is_empty())
    {
        return;
    }
    let ok = match (ty, shape) {
        (FieldType::Map, Shape::Mapping) | (FieldType::List, Shape::Sequence) => true,
        (FieldType::String, Shape::Scalar) => true,
        (FieldType::Bool, Shape::Scalar) => matches!(tree.value(value), Some(ScalarValue::Bool(_))),
        (FieldType::Int, Shape::Scalar) => tree.value(value).and_then(|v| v.as_i64()).is_some(),
        (FieldType::Number, Shape::Scalar) => tree
            .value(value)
            .and_then(|v| v.as_f64())
            .is_some_and(f64::is_finite),
        _ => false,
    };
    if ok {
        return;
    }
    let found = match shape {
        Shape::Mapping => "a mapping".to_owned(),
        Shape::Sequence => "a list".to_owned(),
        _ => {
            let text = shorten(tree.str(value).unwrap_or_default());
            if is_quoted(tree, value) {
                format!("the string `\"{text}\"`")
            } else {
                format!("`{text}`")
            }
        }
    };
    let diagnostic = sink.at(
        value,
        format!("`{key}` must be {}, not {found}", expected(ty)),
    );
    let quoted = shape == Shape::Scalar && is_quoted(tree, value);
    match ty {
        FieldType::Bool if quoted => {
            diagnostic.help("Write `true` or `false` without quotes.");
        }
        FieldType::Bool => {
            diagnostic.help("Write `true` or `false`.");
        }
        FieldType::Int | FieldType::Number if quoted => {
            diagnostic.help("Write the number without quotes.");
        }
        FieldType::Int if tree.value(value).and_then(|v| v.as_f64()).is_some() => {
            diagnostic.help("Write a whole number.");
        }
        _ => {}
    }
    if let Some(fix) = fix(tree, ty, value) {
        diagnostic.fix(fix);
    }
}

/// Unquote a number or boolean written as a string (`"3"`, `"true"`, `yes`).
fn fix(tree: &Tree, ty: FieldType, value: NodeId) -> Option<Fix> {
    let scalar = tree.scalar(value)?;
    if matches!(scalar.style, ScalarStyle::Literal | ScalarStyle::Folded) {
        return None;
    }
    let text = scalar.value.trim();
    let to = match ty {
        FieldType::Bool => match text.to_ascii_lowercase().as_str() {
            "true" | "yes" | "on" => "true".to_owned(),
            "false" | "no" | "off" => "false".to_owned(),
            _ => return None,
        },
        FieldType::Int | FieldType::Number => text.to_owned(),
        _ => return None,
    };
    // The new text must read back as what the field wants.
    let plain = Scalar {
        value: to.clone(),
        style: ScalarStyle::Plain,
        exact: None,
        tagged: false,
    };
    let good = match (ty, plain.typed()) {
        (FieldType::Bool, ScalarValue::Bool(_)) => true,
        (FieldType::Int, ScalarValue::Int(_)) => true,
        (FieldType::Number, ScalarValue::Int(_)) => true,
        (FieldType::Number, ScalarValue::Float(f)) => f.is_finite(),
        _ => false,
    };
    if !good {
        return None;
    }
    replace_plain(tree, value, format!("Change to `{to}`"), &to)
}
