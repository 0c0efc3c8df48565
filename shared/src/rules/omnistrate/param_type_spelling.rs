use crate::declare_rule;
use crate::model::ParamType;
use crate::rules::{Context, Rule, Sink};

use super::support::replace_text;

declare_rule! {
    /// ## What
    /// A known API parameter type written in a spelling the schema does not
    /// list: anything but lower-case (`float64`) or Capitalised (`Float64`),
    /// such as `STRING` or `FLOAT64`; and `JSON`, which the REST examples use
    /// but the schema's enum does not (accepted, with this warning).
    ///
    /// ## Why
    /// The platform matches types against its enum; odd spellings work only
    /// where a parser happens to ignore case.
    ///
    /// ## Example
    /// ```yaml
    /// - key: config
    ///   type: JSON   # Json
    /// ```
    pub struct ParamTypeSpelling {
        code: "O014",
        name: "param-type-spelling",
        severity: Warning,
        layer: Omnistrate,
        summary: "An API parameter type is written in a non-canonical spelling",
        help: "Write types lower-case or Capitalised, as the schema lists them (`string`, `String`).",
        fixable: true,
    }
}

impl Rule for ParamTypeSpelling {
    fn check(&self, ctx: &Context, sink: &mut Sink) {
        for service in &ctx.spec.services {
            for param in &service.api_params {
                let (Some(written), Some(ty)) = (&param.type_name, param.param_type) else {
                    continue;
                };
                let text = written.value.as_str();
                if ParamType::is_canonical_spelling(text) && text != "JSON" {
                    continue;
                }
                let name = ty.name();
                let message = if text == "JSON" {
                    format!("`JSON` is not in the schema's type list; write `{name}`")
                } else {
                    format!("`{text}` is not a documented spelling of `{name}`")
                };
                sink.at(written.node, message).fix(replace_text(
                    ctx.tree,
                    written.node,
                    format!("Change to `{name}`"),
                    name,
                ));
            }
        }
    }
}
