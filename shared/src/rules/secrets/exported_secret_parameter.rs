use crate::declare_rule;
use crate::diagnostic::Fix;
use crate::model::ParamType;
use crate::rules::{Context, Rule, Sink};

declare_rule! {
    /// ## What
    /// An api-param that holds a secret — type `Password`/`Secret`, or a
    /// password-like key such as `mysqlRootPassword` — has `export: true`.
    ///
    /// ## Why
    /// Exported parameters are shown when an instance is described, so the
    /// secret is visible to anyone who can read the instance.
    ///
    /// ## Example
    /// ```yaml
    /// x-omnistrate-api-params:
    ///   - key: mysqlRootPassword
    ///     type: String
    ///     export: true   # use false
    /// ```
    pub struct ExportedSecretParameter {
        code: "S002",
        name: "exported-secret-parameter",
        severity: Warning,
        layer: Secrets,
        summary: "A secret api-param is exported",
        help: "Set `export: false` so the value is not shown when the instance is described.",
        fixable: true,
    }
}

impl Rule for ExportedSecretParameter {
    fn check(&self, ctx: &Context, sink: &mut Sink) {
        for service in &ctx.spec.services {
            for param in &service.api_params {
                let Some(export) = param.export.as_ref().filter(|e| e.value) else {
                    continue;
                };
                let Some(key) = param.key_str() else { continue };
                // A number, flag or link named like a secret (`passwordMinLength`,
                // `secretStoreId`) holds none.
                let secret = match param.param_type {
                    Some(ty) if ty.is_secret() => true,
                    Some(ty)
                        if ty.is_numeric()
                            || ty == ParamType::Boolean
                            || ty == ParamType::Resource =>
                    {
                        false
                    }
                    _ => ctx.looks_like_password(key),
                };
                if !secret {
                    continue;
                }
                let diagnostic = sink.at_span(
                    export.span,
                    Some(export.node),
                    format!("secret parameter `{key}` is exported"),
                );
                let written = ctx.text.get(export.span.start..export.span.end);
                if let Some(word) = written.filter(|w| matches!(*w, "true" | "True" | "TRUE")) {
                    let replacement = match word {
                        "True" => "False",
                        "TRUE" => "FALSE",
                        _ => "false",
                    };
                    diagnostic.fix(Fix::replace(
                        format!("Set `export: {replacement}`"),
                        export.span,
                        replacement,
                    ));
                }
            }
        }
    }
}
