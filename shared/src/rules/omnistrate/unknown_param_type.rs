use crate::declare_rule;
use crate::model::keys::did_you_mean;
use crate::model::ParamType;
use crate::rules::{Context, Rule, Sink};

use super::support::replace_text;

declare_rule! {
    /// ## What
    /// An API parameter `type` that is none of `Boolean String Password
    /// Secret Resource Json Any Bytes Int Int32 Int64 Uint Uint32 Uint64
    /// Float32 Float64` in any letter case.
    ///
    /// ## Why
    /// The type decides how values are validated, shown and stored; the
    /// platform rejects a type it does not know. Common names from other
    /// languages (`integer`, `bool`, `number`, `float`, `str`) are suggested
    /// their Omnistrate equivalent.
    ///
    /// ## Example
    /// ```yaml
    /// - key: numReadReplicas
    ///   type: Flaot64   # Float64
    /// ```
    pub struct UnknownParamType {
        code: "O013",
        name: "unknown-param-type",
        severity: Error,
        layer: Omnistrate,
        summary: "An API parameter has an unknown type",
        help: "Use one of: Boolean, String, Password, Secret, Resource, Json, Any, Bytes, Int, Int32, Int64, Uint, Uint32, Uint64, Float32, Float64.",
        fixable: true,
    }
}

/// Names people reach for from other languages.
fn alias(lowered: &str) -> Option<ParamType> {
    Some(match lowered {
        "bool" => ParamType::Boolean,
        "integer" | "long" => ParamType::Int64,
        "number" | "float" | "double" | "decimal" => ParamType::Float64,
        "str" | "text" => ParamType::String,
        "object" | "map" => ParamType::Json,
        _ => return None,
    })
}

impl Rule for UnknownParamType {
    fn check(&self, ctx: &Context, sink: &mut Sink) {
        for service in &ctx.spec.services {
            for param in &service.api_params {
                let Some(written) = &param.type_name else {
                    continue;
                };
                if param.param_type.is_some() {
                    continue;
                }
                let text = written.value.as_str();
                let suggestion = alias(&text.to_ascii_lowercase()).or_else(|| {
                    did_you_mean(text, ParamType::ALL.iter().map(|t| t.name()))
                        .and_then(ParamType::parse)
                });
                let diagnostic = sink.at(written.node, format!("unknown parameter type `{text}`"));
                if let Some(ty) = suggestion {
                    // Keep the writer's style: `string` stays lower-case.
                    let name = if text.starts_with(|c: char| c.is_ascii_lowercase()) {
                        ty.name().to_ascii_lowercase()
                    } else {
                        ty.name().to_owned()
                    };
                    diagnostic.fix(replace_text(
                        ctx.tree,
                        written.node,
                        format!("Did you mean `{name}`?"),
                        &name,
                    ));
                }
            }
        }
    }
}
